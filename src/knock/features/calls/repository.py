"""SQL for calls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.calls.models import Call, CallParticipant
from knock.features.conversations.models import ConversationMember


async def call_by_id(session: AsyncSession, call_id: str) -> Call | None:
    return (
        await session.execute(
            select(Call).where(Call.id == call_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lock_call_txn(session: AsyncSession, call_id: str) -> Call | None:
    return (
        await session.execute(
            select(Call)
            .where(Call.id == call_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def active_call_of(session: AsyncSession, conversation_id: str) -> Call | None:
    return (
        await session.execute(
            select(Call)
            .where(Call.active_conversation_id == conversation_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def insert_call_txn(session: AsyncSession, call: Call) -> None:
    session.add(call)
    await session.flush()


async def present_participants(session: AsyncSession, call_id: str) -> list[CallParticipant]:
    """Those in the call now, first to join first."""
    rows = await session.execute(
        select(CallParticipant)
        .where(CallParticipant.call_id == call_id, CallParticipant.left_at.is_(None))
        .order_by(CallParticipant.joined_at, CallParticipant.user_id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def present_non_members(session: AsyncSession, call_id: str) -> list[str]:
    """Those in the call who are no longer members of its conversation."""
    member = exists().where(
        ConversationMember.conversation_id == Call.conversation_id,
        ConversationMember.user_id == CallParticipant.user_id,
    )
    rows = await session.execute(
        select(CallParticipant.user_id)
        .join(Call, Call.id == CallParticipant.call_id)
        .where(
            CallParticipant.call_id == call_id,
            CallParticipant.left_at.is_(None),
            not_(member),
        )
    )
    return list(rows.scalars())


async def count_present_txn(session: AsyncSession, call_id: str) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(CallParticipant)
                .where(CallParticipant.call_id == call_id, CallParticipant.left_at.is_(None))
            )
        ).scalar_one()
    )


async def participant(session: AsyncSession, call_id: str, user_id: str) -> CallParticipant | None:
    return (
        await session.execute(
            select(CallParticipant)
            .where(CallParticipant.call_id == call_id, CallParticipant.user_id == user_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def enter_txn(session: AsyncSession, call_id: str, user_id: str, now: datetime) -> None:
    """Put the user in the call (again): present, unmuted."""
    found = await participant(session, call_id, user_id)
    if found is None:
        session.add(CallParticipant(call_id=call_id, user_id=user_id, joined_at=now, muted=False))
    else:
        found.joined_at, found.left_at, found.muted = now, None, False
    await session.flush()


async def leave_txn(session: AsyncSession, call_id: str, user_id: str, now: datetime) -> bool:
    """Take the user out of the call; False if they were not in it."""
    result = await session.execute(
        update(CallParticipant)
        .where(
            CallParticipant.call_id == call_id,
            CallParticipant.user_id == user_id,
            CallParticipant.left_at.is_(None),
        )
        .values(left_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def set_muted_txn(session: AsyncSession, call_id: str, user_id: str, muted: bool) -> bool:
    result = await session.execute(
        update(CallParticipant)
        .where(
            CallParticipant.call_id == call_id,
            CallParticipant.user_id == user_id,
            CallParticipant.left_at.is_(None),
        )
        .values(muted=muted)
    )
    return bool(getattr(result, "rowcount", 0))


async def end_call_txn(session: AsyncSession, call: Call, now: datetime) -> None:
    """Mark the call ended and everyone in it as gone."""
    call.status, call.ended_at, call.active_conversation_id = "ended", now, None
    await session.execute(
        update(CallParticipant)
        .where(CallParticipant.call_id == call.id, CallParticipant.left_at.is_(None))
        .values(left_at=now)
    )
    await session.flush()


async def renew_leases_txn(session: AsyncSession, node_id: str, until: datetime) -> int:
    result = await session.execute(
        update(Call)
        .where(Call.node_id == node_id, Call.status == "active")
        .values(lease_until=until)
    )
    return int(getattr(result, "rowcount", 0))


async def calls_with_lapsed_lease(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    rows = await session.execute(
        select(Call.id).where(Call.status == "active", Call.lease_until < now).limit(limit)
    )
    return list(rows.scalars())


async def active_calls_of_node(session: AsyncSession, node_id: str) -> list[str]:
    rows = await session.execute(
        select(Call.id).where(Call.node_id == node_id, Call.status == "active")
    )
    return list(rows.scalars())
