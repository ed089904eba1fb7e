from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import orjson
import pytest

from knock.testing import register

from .conftest import WsOpener

PING, CLOSE, TEXT = 0x9, 0x8, 0x1


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ws_heartbeat_s": 0.2}


@pytest.fixture
async def knock_live(
    app: Any, serve_with_protocol: Callable[[Any, str], AbstractAsyncContextManager[str]]
) -> AsyncIterator[str]:
    """Served by Knock's protocol only: the protocol pings are its own."""
    async with serve_with_protocol(app, "knock.realtime.wire:KnockWebSocketProtocol") as at:
        yield at


async def test_the_server_pings_an_idle_socket(ws: WsOpener, http: httpx.AsyncClient) -> None:
    """A client that answers (websockets answers protocol pings by itself) gets a
    ``{"type":"ping"}`` every interval and stays connected."""
    member = await register(http)
    async with ws(member.token) as sock:
        assert orjson.loads(await sock.recv())["type"] == "ready"
        pings = [orjson.loads(await asyncio.wait_for(sock.recv(), 5)) for _ in range(6)]
        await sock.send('{"type":"ping"}')
        answer = orjson.loads(await asyncio.wait_for(sock.recv(), 5))
        while answer == {"type": "ping"}:
            answer = orjson.loads(await asyncio.wait_for(sock.recv(), 5))
    assert pings == [{"type": "ping"}] * 6
    assert answer == {"type": "pong"}


class RawSocket:
    """A WebSocket client by hand, which answers nothing unless told."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, address: str, token: str) -> RawSocket:
        host, port = address.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /api/v1/ws?token={token} HTTP/1.1\r\nHost: {address}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def frame(self) -> tuple[int, bytes]:
        first, second = await asyncio.wait_for(self.reader.readexactly(2), 5)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(size)

    def send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked)


async def test_a_peer_that_answers_no_ping_is_closed_after_an_interval(
    knock_live: str, http: httpx.AsyncClient
) -> None:
    """Each round is a ``{"type":"ping"}`` and a protocol ping in one write; a socket that
    sent nothing back since the previous round is closed with 1011."""
    member = await register(http)
    sock = await RawSocket.open(knock_live, member.token)
    frames = [await sock.frame()]
    while frames[-1][0] != CLOSE and len(frames) < 20:
        frames.append(await sock.frame())
    sock.writer.close()
    kinds = [(op, orjson.loads(data).get("type") if op == TEXT else None) for op, data in frames]
    assert kinds[0] == (TEXT, "ready")
    assert kinds[1:3] == [(TEXT, "ping"), (PING, None)]  # one round, then silence
    assert kinds[3:] == [(CLOSE, None)]
    assert struct.unpack("!H", frames[-1][1][:2]) == (1011,)


async def test_a_pong_keeps_a_quiet_peer_connected(
    knock_live: str, http: httpx.AsyncClient
) -> None:
    """A peer that only answers the protocol pings is alive: it stays, round after round."""
    member = await register(http)
    sock = await RawSocket.open(knock_live, member.token)
    assert (await sock.frame())[0] == TEXT  # ready
    rounds = 0
    while rounds < 5:
        opcode, payload = await sock.frame()
        assert opcode in (TEXT, PING), (opcode, payload)
        if opcode == PING:
            sock.send(0xA, payload)  # the pong
            rounds += 1
    sock.writer.close()
