"""A heartbeat round is spread over its interval: each tick pings one slice of the sockets."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection

from knock.realtime.gateway import HEARTBEAT_SLICES
from knock.testing import register

from .conftest import WsOpener


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The timer would tick every 30 s: the test drives the ticks itself.
    return {"ws_heartbeat_s": 300}


async def _pinged(sock: ClientConnection) -> bool:
    try:
        frame = orjson.loads(await asyncio.wait_for(sock.recv(), 0.3))
    except TimeoutError:
        return False
    assert frame == {"type": "ping"}
    return True


async def test_each_tick_pings_one_slice_and_a_round_pings_every_socket_once(
    app: Any, ws: WsOpener, http: httpx.AsyncClient
) -> None:
    members = [await register(http) for _ in range(2 * HEARTBEAT_SLICES)]
    gateway = app.state.node.gateway
    async with contextlib.AsyncExitStack() as stack:
        socks = [await stack.enter_async_context(ws(m.token)) for m in members]
        for sock in socks:
            assert orjson.loads(await sock.recv())["type"] == "ready"
        per_tick: list[list[bool]] = []
        for _ in range(HEARTBEAT_SLICES):
            gateway._ping_slice()
            per_tick.append(list(await asyncio.gather(*(_pinged(s) for s in socks))))
    assert [sum(tick) for tick in per_tick] == [2] * HEARTBEAT_SLICES
    assert [sum(column) for column in zip(*per_tick, strict=True)] == [1] * len(socks)
