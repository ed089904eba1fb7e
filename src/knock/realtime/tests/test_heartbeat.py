from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest

from knock.testing import register

from .conftest import WsOpener


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ws_heartbeat_s": 0.2}


async def test_the_server_pings_an_idle_socket(ws: WsOpener, http: httpx.AsyncClient) -> None:
    member = await register(http)
    async with ws(member.token) as sock:
        assert orjson.loads(await sock.recv())["type"] == "ready"
        pings = [orjson.loads(await asyncio.wait_for(sock.recv(), 5)) for _ in range(3)]
    assert pings == [{"type": "ping"}] * 3
