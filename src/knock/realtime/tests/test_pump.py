"""The event pump: order, holes and fan-out cost, with events committed to a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from knock.core.db import Database
from knock.core.events import Audience
from knock.realtime.brokers.memory import MemoryBroker
from knock.realtime.eventlog import EventLog, events_between
from knock.realtime.registry import Connection
from knock.realtime.wire import frame_payload

from .conftest import Probe


@pytest.fixture
async def unheard_db(app: Any) -> AsyncIterator[Database]:
    """A second writer on the same database whose broker nobody listens to: its events are
    committed but never reach the app's pump through the broker (what a publisher that died
    after commit, or a Redis that dropped a message, looks like)."""
    db = Database(app.state.node.settings.effective_database_url)
    db.set_event_sink(EventLog(MemoryBroker()))
    yield db
    await db.dispose()


def listen(app: Any, user_id: str) -> Connection:
    conn = Connection(user_id, "session", max_queue=10_000)
    app.state.node.registry.add(conn, [], [])
    return conn


async def emit(db: Database, user_id: str, numbers: range) -> None:
    for n in numbers:
        async with db.transaction() as txn:
            txn.emit(Probe(n=n), Audience(user_ids=(user_id,)))


def received(conn: Connection) -> list[int]:
    import orjson

    return [orjson.loads(frame_payload(frame))["n"] for _, frame in conn.queue or ()]


async def wait_for(conn: Connection, count: int, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if len(conn.queue or ()) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"only {received(conn)} arrived")


async def test_a_hole_is_filled_from_the_event_log_in_order(app: Any, unheard_db: Database) -> None:
    conn = listen(app, "u1")
    await emit(unheard_db, "u1", range(0, 3))  # committed, never published
    await emit(app.state.node.db, "u1", range(3, 5))  # published: the pump sees a hole
    await wait_for(conn, 5)
    assert received(conn) == [0, 1, 2, 3, 4]
    ids = [event_id for event_id, _ in conn.queue]
    assert ids == sorted(ids)


async def test_events_never_published_arrive_through_the_poll(
    app: Any, unheard_db: Database
) -> None:
    conn = listen(app, "u1")
    await emit(unheard_db, "u1", range(3))
    await wait_for(conn, 3, timeout_s=5)  # the pump polls the log's head every second
    assert received(conn) == [0, 1, 2]


async def test_envelopes_out_of_order_are_delivered_in_order_without_duplicates(
    app: Any, unheard_db: Database
) -> None:
    pump = app.state.node.pump
    conn = listen(app, "u1")
    start = pump.delivered_upto
    async with pump.paused():  # keep the poll from delivering them first
        await emit(unheard_db, "u1", range(4))
    async with unheard_db.read() as session:
        stored = await events_between(session, start, start + 4)
    for index in (2, 0, 3, 1, 0, 2):
        await pump.offer(stored[index])
    await wait_for(conn, 4)
    assert received(conn) == [0, 1, 2, 3]


async def test_fan_out_serializes_once_and_queries_nothing_per_recipient(
    app: Any, unheard_db: Database
) -> None:
    pump = app.state.node.pump
    registry = app.state.node.registry
    conns = [Connection(f"user{i}", "s", max_queue=10) for i in range(200)]
    for conn in conns:
        registry.add(conn, ["conv1"], [])
    async with pump.paused():
        async with unheard_db.transaction() as txn:
            txn.emit(Probe(n=7), Audience(conversation_id="conv1"))
        async with unheard_db.read() as session:
            (stored,) = await events_between(session, pump.delivered_upto, 10**9)

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = app.state.node.db.read_engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        await pump.offer(stored)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    frames = [conn.queue[0][1] for conn in conns]
    assert all(frame is frames[0] for frame in frames)  # one frame for every recipient
