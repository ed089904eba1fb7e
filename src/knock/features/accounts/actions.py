"""Accounts: register, log in and out, and turn a bearer token into a viewer."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database
from knock.core.errors import Conflict, InvalidCredentials, RateLimited, Unauthorized
from knock.core.events import Audience
from knock.core.ids import new_id
from knock.features.accounts import repository as repo
from knock.features.accounts.events import SessionRevoked
from knock.features.accounts.models import AuthSession, User
from knock.features.accounts.schemas import AuthOut, LoginIn, RegisterIn, UserOut


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the signed-in user and the login session the token belongs to."""

    user_id: str
    session_id: str
    display_name: str


# Signed-in tokens remembered per node (their viewer and expiry), so a request costs no
# database read. The oldest entry goes when it is full.
VIEWER_CACHE_SIZE = 50_000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def users_brief(session: AsyncSession, user_ids: list[str]) -> dict[str, tuple[str, str]]:
    """(display_name, email) of each existing user id, for features that list people."""
    return {u.id: (u.display_name, u.email) for u in await repo.users_by_ids(session, user_ids)}


class Accounts:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._hasher = PasswordHasher(
            time_cost=settings.password_hash_time_cost,
            memory_cost=settings.password_hash_memory_kib,
            parallelism=1,
        )
        # A real hash to verify against when the email is unknown, so timing does not tell.
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))
        self._viewers: dict[str, tuple[Viewer, datetime]] = {}  # token hash -> (viewer, expiry)
        self._token_of_session: dict[str, str] = {}
        self._revocations = 0

    async def do_register(self, body: RegisterIn) -> AuthOut:
        password_hash = await asyncio.to_thread(self._hasher.hash, body.password)
        now = utcnow()
        user = User(
            id=new_id(),
            email=body.email,
            display_name=body.display_name,
            password_hash=password_hash,
            created_at=now,
        )
        try:
            async with self._db.transaction() as txn:
                if await repo.user_by_email(txn.session, body.email) is not None:
                    raise Conflict("An account with this email already exists.", code="email_taken")
                txn.session.add(user)
                await txn.session.flush()
                token = self._new_session_txn(txn.session, user.id)
        except IntegrityError:
            raise Conflict(
                "An account with this email already exists.", code="email_taken"
            ) from None
        return AuthOut(user=UserOut.model_validate(user), token=token)

    async def do_login(self, body: LoginIn, client_address: str) -> AuthOut:
        keys = [f"email:{body.email}", f"ip:{client_address}"]
        self._check_login_allowed(await self._read_failures(keys))
        async with self._db.read() as session:
            user = await repo.user_by_email(session, body.email)
        ok = await asyncio.to_thread(
            self._verify, user.password_hash if user else self._dummy_hash, body.password
        )
        if user is None or not ok:
            await self._record_failures(keys)
            raise InvalidCredentials()
        async with self._db.transaction() as txn:
            await repo.clear_login_failures_txn(txn.session, keys[0])
            token = self._new_session_txn(txn.session, user.id)
        return AuthOut(user=UserOut.model_validate(user), token=token)

    async def do_logout(self, viewer: Viewer) -> None:
        async with self._db.transaction() as txn:
            await repo.revoke_session_txn(txn.session, viewer.session_id, utcnow())
            txn.emit(
                SessionRevoked(session_id=viewer.session_id), Audience(user_ids=(viewer.user_id,))
            )
        # This node forgets it now; every node (this one again) when session.revoked arrives.
        self.forget_session(viewer.session_id)

    async def authenticate(self, token: str | None) -> Viewer:
        """The viewer for a bearer token; Unauthorized for missing, bad, expired or revoked."""
        if not token or len(token) > 200:
            raise Unauthorized()
        token_hash = hash_token(token)
        now = utcnow()
        cached = self._viewers.get(token_hash)
        if cached is not None and cached[1] > now:
            return cached[0]
        revocations = self._revocations
        async with self._db.read() as session:
            found = await repo.session_for_token(session, token_hash, now)
        if found is None:
            raise Unauthorized()
        auth_session, user = found
        viewer = Viewer(user_id=user.id, session_id=auth_session.id, display_name=user.display_name)
        # A revocation that arrived while we read may be of this very session: not cached.
        if revocations == self._revocations:
            self._remember(token_hash, viewer, auth_session.expires_at)
        return viewer

    def forget_session(self, session_id: str) -> None:
        """A session was revoked (``session.revoked``, on every node): its token no longer
        signs in here."""
        self._revocations += 1
        token_hash = self._token_of_session.pop(session_id, None)
        if token_hash is not None:
            self._viewers.pop(token_hash, None)

    def _remember(self, token_hash: str, viewer: Viewer, expires_at: datetime) -> None:
        if len(self._viewers) >= VIEWER_CACHE_SIZE:
            oldest_hash, (oldest, _) = next(iter(self._viewers.items()))
            del self._viewers[oldest_hash]
            self._token_of_session.pop(oldest.session_id, None)
        self._viewers[token_hash] = (viewer, expires_at)
        self._token_of_session[viewer.session_id] = token_hash

    async def me(self, viewer: Viewer) -> UserOut:
        async with self._db.read() as session:
            users = await repo.users_by_ids(session, [viewer.user_id])
        if not users:
            raise Unauthorized()
        return UserOut.model_validate(users[0])

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _new_session_txn(self, session: AsyncSession, user_id: str) -> str:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        session.add(
            AuthSession(
                id=new_id(),
                user_id=user_id,
                token_hash=hash_token(token),
                created_at=now,
                expires_at=now + timedelta(seconds=self._settings.token_ttl_s),
            )
        )
        return token

    async def _read_failures(self, keys: list[str]) -> list[tuple[int, float]]:
        async with self._db.read() as session:
            rows = await repo.login_failures(session, keys)
        now = utcnow()
        return [(row.count, (now - row.window_start).total_seconds()) for row in rows]

    def _check_login_allowed(self, failures: list[tuple[int, float]]) -> None:
        window = self._settings.login_failure_window_s
        waits = [
            int(window - age) + 1
            for count, age in failures
            if count >= self._settings.login_max_failures and age < window
        ]
        if waits:
            raise RateLimited(max(waits), "Too many failed sign-ins; wait before trying again.")

    async def _record_failures(self, keys: list[str]) -> None:
        for attempt in range(3):
            try:
                async with self._db.transaction() as txn:
                    for key in keys:
                        await repo.record_login_failure_txn(
                            txn.session, key, utcnow(), self._settings.login_failure_window_s
                        )
                return
            except IntegrityError:
                # Two first failures for one key raced to insert; the retry updates.
                if attempt == 2:
                    raise
