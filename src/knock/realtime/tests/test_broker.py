"""One suite for every broker: the guarantees written in realtime/broker.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from knock.realtime.broker import Broker, create_broker


@pytest.fixture
async def nodes(broker_url: str) -> AsyncIterator[tuple[Broker, Broker]]:
    """Two nodes' brokers on one deployment (for memory://, one process: the same broker)."""
    prefix = f"knocktest-{uuid.uuid4().hex[:8]}"
    first = create_broker(broker_url, prefix)
    second = first if broker_url.startswith("memory") else create_broker(broker_url, prefix)
    await first.start()
    if second is not first:
        await second.start()
    yield first, second
    await first.close()
    if second is not first:
        await second.close()


async def _collect(broker: Broker, count: int, ready: asyncio.Event) -> list[bytes]:
    received: list[bytes] = []
    stream = broker.subscribe()
    ready.set()
    async for envelope in stream:
        received.append(envelope)
        if len(received) == count:
            break
    return received


async def _subscribed(broker: Broker, count: int) -> asyncio.Task[list[bytes]]:
    ready = asyncio.Event()
    task = asyncio.create_task(_collect(broker, count, ready))
    await ready.wait()
    await asyncio.sleep(0.2)  # a Redis SUBSCRIBE is acknowledged asynchronously
    return task


async def test_every_node_receives_every_envelope_in_publish_order(
    nodes: tuple[Broker, Broker],
) -> None:
    first, second = nodes
    on_first = await _subscribed(first, 200)
    on_second = await _subscribed(second, 200)
    sent = [f"envelope {i}".encode() + b"\n" + bytes(range(256)) for i in range(200)]
    for envelope in sent:
        await first.publish(envelope)
    assert await asyncio.wait_for(on_first, 10) == sent
    assert await asyncio.wait_for(on_second, 10) == sent


async def test_publishers_on_two_nodes_reach_both(nodes: tuple[Broker, Broker]) -> None:
    first, second = nodes
    on_first = await _subscribed(first, 20)
    on_second = await _subscribed(second, 20)
    for i in range(10):
        await first.publish(b"a%d" % i)
        await second.publish(b"b%d" % i)
    for task in (on_first, on_second):
        got = await asyncio.wait_for(task, 10)
        # FIFO per publisher; the interleaving across publishers is not promised.
        assert [e for e in got if e.startswith(b"a")] == [b"a%d" % i for i in range(10)]
        assert [e for e in got if e.startswith(b"b")] == [b"b%d" % i for i in range(10)]


async def test_close_ends_subscriptions(broker_url: str) -> None:
    broker = create_broker(broker_url, f"knocktest-{uuid.uuid4().hex[:8]}")
    await broker.start()
    task = await _subscribed(broker, 10**6)
    await broker.close()
    assert await asyncio.wait_for(task, 10) == []
