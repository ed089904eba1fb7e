"""The Redis broker's publisher: replies off, and what happens when its connection or
Redis itself goes away (publishes are dropped, never raised; publishing resumes)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis

from knock.realtime.brokers.redis import RedisBroker


@contextlib.asynccontextmanager
async def subscribed(broker: RedisBroker) -> AsyncIterator[asyncio.Queue[bytes]]:
    """The envelopes the broker's subscription receives, as they come."""
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def collect() -> None:
        async for envelope in broker.subscribe():
            received.put_nowait(envelope)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0.2)  # a SUBSCRIBE is acknowledged asynchronously
    try:
        yield received
    finally:
        await broker.close()
        await asyncio.wait_for(task, 10)


async def _until_received(
    broker: RedisBroker, received: asyncio.Queue[bytes], tag: bytes
) -> list[bytes]:
    """Publish ``tag`` + a count every 50 ms until one arrives; what arrived meanwhile."""
    got: list[bytes] = []
    for i in range(200):
        await broker.publish(tag + b"%d" % i)
        with contextlib.suppress(TimeoutError):
            got.append(await asyncio.wait_for(received.get(), 0.05))
            while not received.empty():
                got.append(received.get_nowait())
            return got
    raise AssertionError(f"nothing published as {tag!r} arrived in 10 s")


async def test_a_killed_publisher_connection_is_made_again(redis_url: str) -> None:
    broker = RedisBroker(redis_url, f"knocktest-{uuid.uuid4().hex[:8]}")
    await broker.start()
    admin = redis.Redis.from_url(redis_url)
    try:
        async with subscribed(broker) as received:
            await broker.publish(b"before")
            assert await asyncio.wait_for(received.get(), 10) == b"before"
            mine = [c for c in await admin.client_list() if c["name"] == broker.publisher_name]
            assert len(mine) == 1
            await admin.client_kill_filter(_id=mine[0]["id"])
            got = await _until_received(broker, received, b"after")
            # At most once: what was written into the dead connection is missed, and what
            # arrives comes in publish order.
            assert got == sorted(got, key=lambda e: int(e.removeprefix(b"after")))
            again = [c for c in await admin.client_list() if c["name"] == broker.publisher_name]
            assert len(again) == 1 and again[0]["id"] != mine[0]["id"]
    finally:
        await admin.aclose()


async def test_publishes_while_redis_is_down_are_dropped_then_publishing_resumes(
    own_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await own_redis.ready()
    broker = RedisBroker(own_redis.url, "knocktest")
    await broker.start()
    async with subscribed(broker) as received:
        await broker.publish(b"up")
        assert await asyncio.wait_for(received.get(), 10) == b"up"
        own_redis.stop()
        # Neither raises nor waits on the dead server: a send that committed its message
        # is answered, and the event pumps bring the event from the database.
        for i in range(100):
            await asyncio.wait_for(broker.publish(b"down%d" % i), 10)
        await asyncio.sleep(1.5)  # the subscriber retries meanwhile, every half second
        own_redis.start()
        await own_redis.ready()
        got = await _until_received(broker, received, b"back")
        assert all(e.startswith(b"back") for e in got)
    # The outage is logged once by each side, and its end once, not at every retry.
    said = [r.getMessage().split(" (")[0] for r in caplog.records if "redis" in r.name]
    assert said.count("redis publish failed") == 1, said
    assert said.count("redis subscription lost") == 1, said
    assert said.count("redis subscription restored") == 1, said
