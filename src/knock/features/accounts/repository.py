"""SQL for accounts: users, login sessions (hashed tokens), failed-login counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.accounts.models import AuthSession, LoginFailure, User


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def users_by_ids(session: AsyncSession, user_ids: list[str]) -> list[User]:
    if not user_ids:
        return []
    return list((await session.execute(select(User).where(User.id.in_(user_ids)))).scalars())


async def session_for_token(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[AuthSession, User] | None:
    row = (
        await session.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(
                AuthSession.token_hash == token_hash,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def revoke_session_txn(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def login_failures(session: AsyncSession, keys: list[str]) -> list[LoginFailure]:
    return list(
        (await session.execute(select(LoginFailure).where(LoginFailure.key.in_(keys)))).scalars()
    )


async def record_login_failure_txn(
    session: AsyncSession, key: str, now: datetime, window_s: int
) -> None:
    row = await session.get(LoginFailure, key, with_for_update=True)
    if row is None:
        session.add(LoginFailure(key=key, count=1, window_start=now))
    elif (now - row.window_start).total_seconds() >= window_s:
        row.count = 1
        row.window_start = now
    else:
        row.count += 1
    await session.flush()


async def clear_login_failures_txn(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key == key))
