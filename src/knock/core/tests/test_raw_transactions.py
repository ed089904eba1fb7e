"""Raw transactions (the send fast path): plain SQL on the driver's connection, with the
event log and send-after-commit; on SQLite, concurrent writers share one commit."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import orjson
import pytest
from sqlalchemy import text

from knock.core.db import CHECKPOINT_EVERY_COMMITS, Database, UniqueViolation, _numbered
from knock.core.events import Audience, Event, StoredEvent
from knock.realtime.brokers.memory import MemoryBroker
from knock.realtime.eventlog import EventLog, decode_envelope

# The rows the writers below store: event_recipients rows of event 0 (event ids start at 1),
# a table of Knock's own, so the tests make no tables of their own in the shared database.
_INSERT = "INSERT INTO event_recipients (event_id, user_id) VALUES (0, ?)"
_KEYS = "SELECT user_id FROM event_recipients WHERE event_id = 0"


class Noted(Event):
    type: Literal["test.noted"] = "test.noted"
    n: int


class Recording:
    """What reached the broker, decoded (a subscriber like a node's pump)."""

    def __init__(self, broker: MemoryBroker) -> None:
        self.published: list[StoredEvent] = []
        self._broker = broker
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._broker.start()
        ready = asyncio.Event()

        async def consume() -> None:
            stream = self._broker.subscribe()
            ready.set()
            async for envelope in stream:
                self.published.append(decode_envelope(envelope))

        self._task = asyncio.create_task(consume())
        await ready.wait()
        await asyncio.sleep(0)

    async def settle(self) -> list[StoredEvent]:
        """Everything published so far (the memory broker hands it over in a few turns)."""
        for _ in range(20):
            await asyncio.sleep(0)
        return self.published

    async def close(self) -> None:
        await self._broker.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def _setup(url: str) -> tuple[Database, Recording]:
    db = Database(url)
    broker = MemoryBroker()
    db.set_event_sink(EventLog(broker))
    recording = Recording(broker)
    await recording.start()
    async with db.transaction() as txn:
        await txn.session.execute(text("DELETE FROM event_recipients WHERE event_id = 0"))
    return db, recording


async def _keys(db: Database) -> list[str]:
    async with db.read() as session:
        return sorted((await session.execute(text(_KEYS))).scalars())


async def _write(db: Database, key: str, n: int, failure: Exception | None = None) -> None:
    """Store ``key`` and emit Noted(n); raise ``failure``, if given, before the commit."""
    async with db.raw_transaction() as txn:
        await txn.run(_INSERT, key)
        txn.emit(Noted(n=n), Audience(user_ids=("u1",)))
        if failure is not None:
            raise failure


async def test_a_raw_transaction_stores_its_rows_and_events_and_publishes_after_commit(
    database_url: str,
) -> None:
    db, recording = await _setup(database_url)
    try:
        await _write(db, "a", 1)
        assert await _keys(db) == ["a"]
        assert [e.type for e in (await recording.settle())] == ["test.noted"]
        event = (await recording.settle())[0]
        async with db.read() as session:
            stored = (
                await session.execute(
                    text(
                        "SELECT e.frame, r.user_id FROM events e JOIN event_recipients r ON r.event_id = e.id WHERE e.id = :i"
                    ),
                    {"i": event.id},
                )
            ).one()
        assert bytes(stored[0]) == event.frame and stored[1] == "u1"
        assert b'"n":1' in event.frame
    finally:
        await recording.close()
        await db.dispose()


async def test_a_failing_raw_transaction_stores_and_publishes_nothing(database_url: str) -> None:
    db, recording = await _setup(database_url)
    try:
        await _write(db, "a", 1)
        with pytest.raises(UniqueViolation):
            await _write(db, "a", 2)  # the same primary key
        with pytest.raises(RuntimeError, match="boom"):
            async with db.raw_transaction() as txn:
                await txn.run(_INSERT, "b")
                txn.emit(Noted(n=3), Audience(user_ids=("u1",)))
                raise RuntimeError("boom")
        assert await _keys(db) == ["a"]
        assert [e.id for e in (await recording.settle())] == [(await recording.settle())[0].id]
        await _write(db, "c", 4)  # and the writer goes on
        assert await _keys(db) == ["a", "c"]
    finally:
        await recording.close()
        await db.dispose()


async def test_concurrent_raw_writers_all_commit_with_gapless_event_ids(
    database_url: str,
) -> None:
    """Sixty writers at once, every fifth failing: on SQLite they share commits (a group
    whose member failed still commits the others), on PostgreSQL they use the pool."""
    db, recording = await _setup(database_url)
    try:
        writers = [
            _write(db, f"k{i:02d}", i, ValueError(i) if i % 5 == 0 else None) for i in range(60)
        ]
        results = await asyncio.gather(*writers, return_exceptions=True)
        failed = [r for r in results if isinstance(r, ValueError)]
        assert len(failed) == 12 and all(r is None for r in results if r not in failed)
        assert await _keys(db) == [f"k{i:02d}" for i in range(60) if i % 5]
        ids = sorted(e.id for e in (await recording.settle()))
        assert len(ids) == 48 and ids == list(range(ids[0], ids[0] + 48))
        async with db.read() as session:
            stored = (await session.execute(text("SELECT count(*) FROM events"))).scalar_one()
        assert stored == 48
    finally:
        await recording.close()
        await db.dispose()


async def test_sqlite_writers_arriving_together_share_one_commit(
    sqlite_template: Path, tmp_path: Path
) -> None:
    target = tmp_path / "knock.db"
    shutil.copyfile(sqlite_template, target)
    db, recording = await _setup(f"sqlite+aiosqlite:///{target}")
    try:
        await _write(db, "warm", 0)
        group = db._group
        assert group is not None
        commits = 0
        run = group._in_thread

        async def counting(call: Callable[..., object], *args: object) -> None:
            nonlocal commits
            commits += args == ("COMMIT",)
            await run(call, *args)

        group._in_thread = counting  # type: ignore[method-assign]
        await asyncio.gather(*(_write(db, f"g{i}", i) for i in range(40)))
        assert len(await _keys(db)) == 41
        assert 1 <= commits < 40
    finally:
        await recording.close()
        await db.dispose()


async def test_a_sqlite_writer_waits_off_the_loop_while_another_process_holds_the_write_lock(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """The writer begins on the loop's thread; when another connection holds SQLite's write
    lock, it waits for it on the writer's thread, with the loop free, and commits once the
    lock is let go. Twice: after waiting once, the next begin still does not stall the loop."""
    target = tmp_path / "knock.db"
    shutil.copyfile(sqlite_template, target)
    db, recording = await _setup(f"sqlite+aiosqlite:///{target}")
    holder = sqlite3.connect(target, isolation_level=None)
    try:
        await _write(db, "before", 0)  # the writer's connection exists and has begun once
        group = db._group
        assert group is not None

        def busy_timeout() -> object:
            return group._conn.execute("PRAGMA busy_timeout").fetchone()

        # What keeps the loop's thread from waiting on the lock: no busy timeout there,
        # also after a wait on the writer's thread.
        assert busy_timeout() == (0,)
        for turn in range(2):
            holder.execute("BEGIN IMMEDIATE")
            waiting = asyncio.create_task(_write(db, f"held{turn}", turn + 1))
            for _ in range(20):  # the loop turns meanwhile
                await asyncio.sleep(0.01)
            assert not waiting.done()
            holder.execute("COMMIT")
            await asyncio.wait_for(waiting, 60)
        await _write(db, "after", 3)
        assert await _keys(db) == ["after", "before", "held0", "held1"]
        assert busy_timeout() == (0,)
    finally:
        holder.close()
        await recording.close()
        await db.dispose()


async def test_a_sqlite_leader_cancelled_while_it_waits_for_the_lock_leaves_no_transaction(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Cancelled while BEGIN waits on the writer's thread, the leader rolls back what that
    BEGIN began once the lock came free, and its waiting writer hears it was cancelled:
    the write lock is not kept, and the next writer commits."""
    target = tmp_path / "knock.db"
    shutil.copyfile(sqlite_template, target)
    db, recording = await _setup(f"sqlite+aiosqlite:///{target}")
    holder = sqlite3.connect(target, isolation_level=None)
    try:
        await _write(db, "before", 0)
        group = db._group
        assert group is not None
        holder.execute("BEGIN IMMEDIATE")
        waiting = asyncio.create_task(_write(db, "held", 1))
        for _ in range(20):  # the leader waits on the writer's thread
            await asyncio.sleep(0.01)
        leader = group._leader
        assert leader is not None and not leader.done()
        leader.cancel()
        await asyncio.sleep(0.05)
        holder.execute("COMMIT")  # the thread's BEGIN now goes through, after the cancel
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(leader, 60)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 60)
        assert not group._conn.in_transaction
        holder.execute("BEGIN IMMEDIATE")  # the lock is free
        holder.execute("ROLLBACK")
        await _write(db, "after", 2)
        assert await _keys(db) == ["after", "before"]
    finally:
        holder.close()
        await recording.close()
        await db.dispose()


async def test_a_writer_failing_inside_a_group_rolls_back_only_itself(
    database_url: str,
) -> None:
    db, recording = await _setup(database_url)
    try:
        writers = [
            _write(db, f"bad{i}", i, RuntimeError("boom"))
            if i % 3 == 1
            else _write(db, f"k{i:02}", i)
            for i in range(12)
        ]
        results = await asyncio.gather(*writers, return_exceptions=True)
        assert [isinstance(r, RuntimeError) for r in results] == [i % 3 == 1 for i in range(12)]
        assert await _keys(db) == [f"k{i:02}" for i in range(12) if i % 3 != 1]
        noted = sorted(orjson.loads(e.frame)["n"] for e in await recording.settle())
        assert noted == [i for i in range(12) if i % 3 != 1]
    finally:
        await recording.close()
        await db.dispose()


async def test_a_writer_cancelled_while_queued_or_running_leaves_the_others_alone(
    database_url: str,
) -> None:
    db, recording = await _setup(database_url)
    try:
        entered = asyncio.Event()

        async def slow() -> None:
            async with db.raw_transaction() as txn:
                await txn.run(_INSERT, "slow")
                entered.set()
                await asyncio.sleep(30)

        slow_task = asyncio.create_task(slow())
        await entered.wait()
        queued = asyncio.create_task(_write(db, "queued", 1))
        others = [asyncio.create_task(_write(db, f"o{i}", i)) for i in range(3)]
        await asyncio.sleep(0)
        queued.cancel()
        slow_task.cancel()
        await asyncio.gather(*others)
        for task in (queued, slow_task):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert await _keys(db) == ["o0", "o1", "o2"]
        assert sorted(e.frame.count(b"test.noted") for e in (await recording.settle())) == [1, 1, 1]
    finally:
        await recording.close()
        await db.dispose()


def test_raw_sql_placeholders_become_numbered_for_postgresql() -> None:
    assert _numbered("SELECT ? WHERE a = ? AND b = ?") == "SELECT $1 WHERE a = $2 AND b = $3"


async def test_sqlite_raw_commits_are_checkpointed_beside_the_writer(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """The raw writer does not checkpoint inside its commits; its checkpointer does, every
    CHECKPOINT_EVERY_COMMITS commits: the rows then reach the database file itself."""
    target = tmp_path / "knock.db"
    shutil.copyfile(sqlite_template, target)
    db, recording = await _setup(f"sqlite+aiosqlite:///{target}")
    try:
        for i in range(CHECKPOINT_EVERY_COMMITS + 5):
            await _write(db, f"c{i:04d}", i)
        group = db._group
        assert group is not None
        if group._checkpointing is not None:
            await group._checkpointing
        # The main file alone, without its WAL: what the checkpoint copied into it.
        alone = tmp_path / "alone.db"
        shutil.copyfile(target, alone)
        with contextlib.closing(sqlite3.connect(alone)) as conn:
            copied = conn.execute(
                "SELECT count(*) FROM event_recipients WHERE event_id = 0"
            ).fetchone()[0]
        assert copied >= CHECKPOINT_EVERY_COMMITS
    finally:
        await recording.close()
        await db.dispose()
