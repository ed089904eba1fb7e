"""Database access: engines, read sessions and write transactions with send-on-commit.

SQLite runs in WAL mode with ``synchronous=FULL``; its writers take the write lock at
``BEGIN IMMEDIATE`` (so two writers never deadlock upgrading a read lock) and, inside one
process, queue on an asyncio lock instead of spinning on SQLITE_BUSY. PostgreSQL goes
through asyncpg with a connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

from knock.core.events import Audience, Event, EventSink, PendingEvent, StoredEvent


class Transaction:
    """One write transaction; ``emit`` queues an event that is sent only after commit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.pending: list[PendingEvent] = []

    def emit(self, event: Event, audience: Audience) -> None:
        self.pending.append(PendingEvent(event, audience))


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    # The pool's own reset is replaced by _on_reset below.
    engine = create_async_engine(
        url, pool_size=1 if immediate else 5, max_overflow=0, pool_reset_on_return=None
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # The pool would roll back every connection handed back, though our sessions end
        # each transaction themselves: one more trip to aiosqlite's thread per session.
        # Only a connection still inside a transaction (an interrupted session) needs it.
        if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    return engine


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._sink: EventSink | None = None
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=False
            )
            self.read_engine = self.write_engine
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    def set_event_sink(self, sink: EventSink) -> None:
        self._sink = sink

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; it sees every transaction committed before it began."""
        async with self._read_sessions() as session, session.begin():
            yield session

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A write transaction; its events are stored with it and published after commit."""
        lock = self._write_lock or contextlib.nullcontext()
        stored: list[StoredEvent] = []
        async with lock, self._write_sessions() as session, session.begin():
            txn = Transaction(session)
            yield txn
            if txn.pending:
                if self._sink is None:
                    raise RuntimeError("events emitted but no event sink is set")
                stored = await self._sink.append_txn(session, txn.pending)
        if stored and self._sink is not None:
            await self._sink.publish(stored)

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
