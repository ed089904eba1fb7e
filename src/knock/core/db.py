"""Database access: engines, read sessions and write transactions with send-on-commit.

SQLite runs in WAL mode with ``synchronous=FULL``; its writers take the write lock at
``BEGIN IMMEDIATE`` (so two writers never deadlock upgrading a read lock) and, inside one
process, queue on an asyncio lock instead of spinning on SQLITE_BUSY. PostgreSQL goes
through asyncpg with a connection pool.

The hottest write (a text message) does not go through SQLAlchemy at all: through its
async session every statement costs about a millisecond of CPU on a small machine (a
greenlet switch, compiling, the ORM unit of work, a hop to aiosqlite's thread), ten times
what the statement itself costs. ``Database.raw_transaction()`` runs plain SQL on the
driver's own connection instead: on SQLite a ``sqlite3`` connection used from the event
loop (only COMMIT, which waits on fsync, goes to a thread, and BEGIN when another process
holds the file's write lock), on
PostgreSQL the pooled asyncpg connection. Same write lock, same event log, same
send-after-commit.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

from knock.core.events import Audience, Event, EventSink, PendingEvent, StoredEvent
from knock.core.models import UTCDateTime
from knock.core.shielded import to_the_end

Row = tuple[Any, ...]
# Group commits between two WAL checkpoints of the raw writer (a few MB of WAL at most).
CHECKPOINT_EVERY_COMMITS = 200
BUSY_TIMEOUT_MS = 30_000  # how long SQLite waits for another process's lock
log = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"\?")


class UniqueViolation(Exception):
    """A raw statement broke a unique constraint (on either database)."""


class Transaction:
    """One write transaction; ``emit`` queues an event that is sent only after commit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.pending: list[PendingEvent] = []

    def emit(self, event: Event, audience: Audience) -> None:
        self.pending.append(PendingEvent(event, audience))


class RawTransaction:
    """A write transaction in plain SQL with ``?`` placeholders, for the hottest writes.

    ``one`` answers the first row (or None), ``run`` the number of rows changed, ``many``
    runs a statement once per row. Datetimes go in through ``time``. Events are queued with
    ``emit`` and published after commit, as in ``Transaction``."""

    def __init__(self, is_sqlite: bool, connection: Any, time_bind: Any) -> None:
        self._sqlite = is_sqlite
        self._conn = connection
        self._time_bind = time_bind
        self.pending: list[PendingEvent] = []

    def emit(self, event: Event, audience: Audience) -> None:
        self.pending.append(PendingEvent(event, audience))

    def time(self, value: datetime) -> Any:
        return self._time_bind(value)

    async def one(self, sql: str, *args: Any) -> Row | None:
        if self._sqlite:
            with _unique_violation(sqlite3.IntegrityError):
                rows = self._conn.execute(sql, args).fetchall()
            return tuple(rows[0]) if rows else None
        return await _pg_one(self._conn, sql, args)

    async def run(self, sql: str, *args: Any) -> int:
        if self._sqlite:
            with _unique_violation(sqlite3.IntegrityError):
                return int(self._conn.execute(sql, args).rowcount)
        with _unique_violation(_asyncpg_unique()):
            status: str = await self._conn.execute(_numbered(sql), *args)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    async def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._sqlite:
            with _unique_violation(sqlite3.IntegrityError):
                self._conn.executemany(sql, rows)
            return
        with _unique_violation(_asyncpg_unique()):
            await self._conn.executemany(_numbered(sql), rows)


async def _pg_one(connection: Any, sql: str, args: Sequence[Any]) -> Row | None:
    """The first row of a statement on an asyncpg connection (None if it answers none)."""
    with _unique_violation(_asyncpg_unique()):
        found = await connection.fetchrow(_numbered(sql), *args)
    return None if found is None else tuple(found)


_NUMBERED: dict[str, str] = {}


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...`` (cached per statement)."""
    found = _NUMBERED.get(sql)
    if found is None:
        counter = iter(range(1, sql.count("?") + 1))
        found = _NUMBERED[sql] = _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)
    return found


@functools.cache
def _asyncpg_unique() -> type[Exception]:
    # asyncpg is imported by nodes on PostgreSQL only.
    from asyncpg.exceptions import UniqueViolationError  # type: ignore[import-untyped]

    return cast(type[Exception], UniqueViolationError)


@functools.cache
def _asyncpg_no_data_found() -> type[Exception]:
    from asyncpg.exceptions import NoDataFoundError

    return cast(type[Exception], NoDataFoundError)


@contextlib.contextmanager
def _unique_violation(kind: type[Exception]) -> Any:
    try:
        yield
    except kind as exc:
        if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" not in str(exc):
            raise
        raise UniqueViolation(str(exc)) from exc


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _sqlite_setup(connection: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class _GroupCommit:
    """SQLite's raw writer: one ``sqlite3`` connection, and group commit.

    Raw transactions queue here. A leader takes the node's write lock, begins one
    transaction and lets the queued writers run one after another, each inside a savepoint
    (a writer that fails rolls back only itself), then commits them all with one fsync.
    Writers that arrive meanwhile form the next group. Under load a commit then costs one
    fsync and two thread hops per group instead of per message; alone, a writer commits at
    once. A failed COMMIT fails every writer of its group: none of them was stored."""

    def __init__(self, path: str, write_lock: asyncio.Lock) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        _sqlite_setup(self._conn)
        # No busy timeout on the loop's thread: BEGIN answers busy at once when another
        # process holds the write lock, and then waits on the writer's thread (``_begin``).
        self._conn.execute("PRAGMA busy_timeout=0")
        # SQLite checkpoints the WAL inside the COMMIT that fills it past 1,000 pages: the
        # whole group would wait for it (copying pages, an fsync of the database file).
        # This writer's commits leave it to a checkpointer of its own, which runs beside
        # them (a WAL checkpoint does not take the write lock).
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        _sqlite_setup(self._checkpointer)
        self._checkpointing: asyncio.Future[Any] | None = None
        self._commits = 0
        self._thread = concurrent.futures.ThreadPoolExecutor(
            2, thread_name_prefix="knock-sqlite-writer"
        )
        self._lock = write_lock
        # Each writer: (its turn has come, its body is over (True: it succeeded), its group
        # committed).
        self._queue: collections.deque[
            tuple[asyncio.Future[None], asyncio.Future[bool], asyncio.Future[None]]
        ] = collections.deque()
        self._leader: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[sqlite3.Connection]:
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        done: asyncio.Future[bool] = loop.create_future()
        committed: asyncio.Future[None] = loop.create_future()
        committed.add_done_callback(_retrieve)  # a cancelled writer no longer awaits it
        self._queue.append((turn, done, committed))
        if self._leader is None or self._leader.done():
            self._leader = loop.create_task(self._lead())
        try:
            await turn  # cancelled while waiting, ``turn`` is too: the leader skips it
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given the turn, then cancelled
                done.set_result(False)
            raise
        conn = self._conn
        ok = False
        try:
            conn.execute("SAVEPOINT writer")
            try:
                yield conn
                ok = True
            except BaseException:
                conn.execute("ROLLBACK TO writer")
                raise
            finally:
                conn.execute("RELEASE writer")
        finally:
            done.set_result(ok)
        await asyncio.shield(committed)

    async def _lead(self) -> None:
        while self._queue:
            group: list[asyncio.Future[None]] = []
            try:
                async with self._lock:
                    try:
                        await self._begin()
                    except BaseException as exc:
                        # Cancelled while BEGIN waited on the thread, it may have begun.
                        if self._conn.in_transaction:
                            self._conn.execute("ROLLBACK")
                        # Nothing began: tell every waiting writer instead of retrying.
                        while self._queue:
                            turn = self._queue.popleft()[0]
                            if turn.done():
                                continue
                            if isinstance(exc, Exception):
                                turn.set_exception(exc)
                            else:
                                turn.cancel()
                        raise
                    try:
                        while self._queue:
                            turn, done, committed = self._queue.popleft()
                            if turn.cancelled():
                                continue
                            turn.set_result(None)
                            if await asyncio.shield(done):
                                group.append(committed)
                        await self._in_thread(self._conn.execute, "COMMIT")
                    except BaseException:
                        if self._conn.in_transaction:
                            await self._in_thread(self._conn.execute, "ROLLBACK")
                        raise
            except BaseException as exc:
                for committed in group:
                    if not committed.done():
                        committed.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for committed in group:
                if not committed.done():
                    committed.set_result(None)
            self._commits += 1
            if self._commits >= CHECKPOINT_EVERY_COMMITS and self._checkpointing is None:
                self._commits = 0
                self._checkpoint()

    def _checkpoint(self) -> None:
        """Start a passive checkpoint on the other thread (it copies what no reader needs)."""
        future = asyncio.get_running_loop().run_in_executor(
            self._thread, self._checkpointer.execute, "PRAGMA wal_checkpoint(PASSIVE)"
        )
        self._checkpointing = future

        def finished(done: asyncio.Future[Any]) -> None:
            self._checkpointing = None
            if not done.cancelled() and done.exception() is not None:
                log.warning("WAL checkpoint failed: %s", done.exception())

        future.add_done_callback(finished)

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE on the loop's thread, as the writers' statements run: this node's
        writers queue on its write lock, so SQLite's is nearly always free, and a lone send
        would pay a hop to the writer's thread and back (two wake-ups from idle, about a
        tenth of its CPU here) for a statement that takes microseconds. Held by another
        process, it answers busy at once and is waited for on the writer's thread."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
        await self._in_thread(self._begin_waiting)

    def _begin_waiting(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            conn.execute("PRAGMA busy_timeout=0")

    async def _in_thread(self, call: Callable[..., object], *args: object) -> None:
        """Run what may wait (on the file lock, on fsync) on the writer's thread. Cancelled
        meanwhile, it still waits for it to end: the connection must not be touched while
        the thread holds it."""
        await to_the_end(asyncio.get_running_loop().run_in_executor(self._thread, call, *args))

    async def close(self) -> None:
        if self._leader is not None and not self._leader.done():
            with contextlib.suppress(Exception):
                await self._leader
        if self._checkpointing is not None:
            with contextlib.suppress(Exception):
                await self._checkpointing
        self._thread.shutdown(wait=True)
        self._conn.close()
        self._checkpointer.close()


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    # The pool's own reset is replaced by _on_reset below.
    engine = create_async_engine(
        url, pool_size=1 if immediate else 5, max_overflow=0, pool_reset_on_return=None
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        _sqlite_setup(dbapi_connection)

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

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # SQLAlchemy takes a task cancelled inside a statement for a lost connection and
        # closes it. But aiosqlite's thread still runs that statement, and a connection
        # closed while its statement lives on stays open in SQLite until the garbage
        # collector frees the statement: with its transaction, and so with the write lock
        # (every later writer waited out the busy timeout). The connection is sound, its
        # calls run in order: keep it, and the session's ROLLBACK, queued behind the
        # statement, ends the transaction.
        if context.is_disconnect and not isinstance(context.original_exception, Exception):
            context.is_disconnect = False

    return engine


class _Locked(Exception):
    """SQLite answered busy to a read on the loop's thread (see Database.read_one)."""


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
        # The raw writer of SQLite: opened at its first use, with a thread of its own for
        # BEGIN and COMMIT (file database only: ":memory:" would be another database).
        self._sqlite_path = parsed.database if self.is_sqlite else None
        self._group: _GroupCommit | None = None
        # read_one's connection on SQLite, used on the event loop's thread (see there).
        self._poller: sqlite3.Connection | None = None
        dialect = self.write_engine.dialect
        bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        utc = UTCDateTime()

        def time_bind(value: datetime) -> Any:
            aware = utc.process_bind_param(value, dialect)
            return bind(aware) if bind is not None else aware

        self._time_bind = time_bind

    @property
    def has_raw(self) -> bool:
        """Whether raw_transaction() is available (not on an in-memory SQLite database)."""
        return not self.is_sqlite or self._sqlite_path not in (None, "", ":memory:")

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
        await self.publish(stored)

    def time(self, value: datetime) -> Any:
        """A datetime as raw statements take it."""
        return self._time_bind(value)

    async def call(self, sql: str, *args: Any) -> Row | None:
        """PostgreSQL: one statement with ``?`` placeholders, committed on its own (one
        round trip: the row locks it takes are held only while the server runs it). Its
        first row, or None when it answers none or raises no_data_found (then it changed
        nothing)."""
        assert not self.is_sqlite, "call() is for PostgreSQL"
        async with self._pg_driver() as driver:
            try:
                return await _pg_one(driver, sql, args)
            except _asyncpg_no_data_found():
                return None

    async def read_one(self, sql: str, *args: Any) -> Row | None:
        """One reading statement (``?`` placeholders) on the driver's connection, outside
        any transaction and without the ORM: its first row, or None. For the polls that
        run every second on every node and mostly find nothing (the event pump's, the DING
        escalator's): a quarter of what a ``read()`` session costs.

        On a SQLite file it runs on the event loop's own thread, as the raw writer's
        statements do: a read in WAL mode waits for no writer, and the hops to a driver
        thread and back cost more than the statement (two polls' hops were a third of an
        idle node's CPU). A database that is locked all the same (another process holding
        it exclusively) answers busy at once, and then the read waits on a driver thread."""
        if not self.is_sqlite:
            async with self._pg_driver() as driver:
                return await _pg_one(driver, sql, args)
        if self.has_raw:
            with contextlib.suppress(_Locked):
                return self._poll_here(sql, args)
        async with self.read_engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection  # aiosqlite's, in autocommit (see _sqlite_engine)
            assert driver is not None
            async with driver.execute(sql, args) as cursor:
                row = await cursor.fetchone()
        return None if row is None else tuple(row)

    def _poll_here(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        poller = self._poller
        if poller is None:
            assert self._sqlite_path is not None
            # No busy timeout (SQLite's default): a lock answers at once instead of
            # stalling the loop.
            poller = sqlite3.connect(self._sqlite_path, isolation_level=None)
            poller.execute("PRAGMA query_only=ON")
            self._poller = poller
        try:
            # Closed at once: an unfinished statement would keep its read snapshot open, and
            # the next poll would not see later commits.
            with contextlib.closing(poller.execute(sql, args)) as cursor:
                row = cursor.fetchone()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise _Locked from exc
            raise
        return None if row is None else tuple(row)

    async def publish(self, stored: list[StoredEvent]) -> None:
        """Send committed events (stored by a statement of ours, not by the event log)."""
        if stored and self._sink is not None:
            await self._sink.publish(stored)

    @contextlib.asynccontextmanager
    async def raw_transaction(self) -> AsyncIterator[RawTransaction]:
        """A write transaction in plain SQL on the driver's connection (see the module's
        doc); its events are stored with it and published after commit."""
        stored: list[StoredEvent] = []
        if self.is_sqlite:
            if self._group is None:
                if not self.has_raw:
                    raise RuntimeError("raw transactions need a file database")
                assert self._sqlite_path is not None and self._write_lock is not None
                self._group = _GroupCommit(self._sqlite_path, self._write_lock)
            async with self._group.turn() as conn:
                txn = RawTransaction(True, conn, self._time_bind)
                yield txn
                stored = await self._append_raw(txn)
        else:
            async with self._pg_driver() as driver, driver.transaction():
                txn = RawTransaction(False, driver, self._time_bind)
                yield txn
                stored = await self._append_raw(txn)
        await self.publish(stored)

    @contextlib.asynccontextmanager
    async def _pg_driver(self) -> AsyncIterator[Any]:
        """A pooled connection's asyncpg connection, for plain SQL."""
        async with self.write_engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            yield driver

    async def _append_raw(self, txn: RawTransaction) -> list[StoredEvent]:
        if not txn.pending:
            return []
        if self._sink is None:
            raise RuntimeError("events emitted but no event sink is set")
        return await self._sink.append_raw(txn, txn.pending)

    async def dispose(self) -> None:
        if self._poller is not None:
            self._poller.close()
            self._poller = None
        if self._group is not None:
            await self._group.close()
            self._group = None
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
