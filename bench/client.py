"""Raw asyncio clients for the hot path: a WebSocket receiver and a keep-alive HTTP/1.1 sender.

The ``websockets`` and ``httpx`` clients cost tens of microseconds per frame or request; at
tens of thousands of deliveries a second on one core that would measure the load generator,
not the server. These protocols do the minimum: a WebSocket frame parser that timestamps
each ``data_received`` (the moment the bytes reach user space, before any parsing) and pulls
the cursor and ``client_msg_id`` out of the frame with two ``bytes.find`` calls; and an HTTP
client that writes a prepared request and reads ``Content-Length`` bytes back.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

now = time.monotonic  # one clock for senders and receivers (same process)

_CURSOR_PREFIX = b'{"cursor":"'
_CMID_KEY = b'"client_msg_id":"'
_TYPE_KEY = b'"type":"'


def _mask(payload: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client-to-server frame (small control or text frames)."""
    key = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + key + _mask(payload, key)


class Refused(ConnectionError):
    """The server answered the handshake with something other than 101 (503 when full)."""

    retry_after: float | None = None


def _retry_after(head: bytes) -> float | None:
    """The Retry-After seconds of a lower-cased response head, if any."""
    at = head.find(b"\r\nretry-after:")
    if at < 0:
        return None
    stop = head.find(b"\r\n", at + 2)
    raw = head[at + 14 : stop if stop >= 0 else None].strip()
    return float(raw) if raw.isdigit() else None


@dataclass
class Received:
    """What one socket received: (time, cursor, client_msg_id) per message frame."""

    frames: list[tuple[float, int, bytes]] = field(default_factory=list)
    other: int = 0  # non-message frames (ready, ping, receipts, ...)
    resyncs: int = 0
    last_cursor: int = 0


class WSClient(asyncio.Protocol):
    """One WebSocket connection; records message frames into a shared ``Received``."""

    def __init__(self, path: str, host: str, received: Received) -> None:
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.received = received
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._upgraded = False
        self._fragments: list[bytes] = []
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[int] = loop.create_future()
        self.closed: asyncio.Future[int] = loop.create_future()
        self.close_code = 0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready: {exc}"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        t = now()
        buf = self._buf
        buf += data
        pos = 0
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status_line = bytes(buf[: buf.find(b"\r\n")])
            if b" 101 " not in status_line:
                refusal = Refused(status_line.decode(errors="replace"))
                refusal.retry_after = _retry_after(bytes(buf[:end]).lower())
                self.ready.set_exception(refusal)
                assert self.transport is not None
                self.transport.close()
                return
            self._upgraded = True
            pos = end + 4
        n = len(buf)
        while n - pos >= 2:
            b0 = buf[pos]
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + length
            if end > n:
                break
            payload = bytes(buf[pos + head : end])
            pos = end
            opcode = b0 & 0x0F
            if not b0 & 0x80:  # fragmented (not expected from these servers)
                self._fragments.append(payload)
                continue
            if opcode == 0 and self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments = []
                opcode = 1
            if opcode == 1:
                self._on_text(t, payload)
            elif opcode == 9:
                assert self.transport is not None
                self.transport.write(client_frame(0xA, payload))
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 0
                assert self.transport is not None
                self.transport.close()
        if pos:
            del buf[:pos]

    def _on_text(self, t: float, payload: bytes) -> None:
        rec = self.received
        if payload.startswith(_CURSOR_PREFIX):
            end = payload.find(b'"', 11)
            cursor = int(payload[11:end])
            start = payload.find(_CMID_KEY, end)
            if start >= 0 and payload.startswith(b'"type":"message.created"', end + 2):
                start += 17
                rec.frames.append((t, cursor, payload[start : payload.find(b'"', start)]))
            else:
                rec.other += 1
            rec.last_cursor = cursor
            return
        rec.other += 1
        start = payload.find(_TYPE_KEY)
        kind = payload[start + 8 : payload.find(b'"', start + 8)]
        if kind == b"ready" or kind == b"resync_required":
            at = payload.find(_CURSOR_PREFIX[1:])
            if at >= 0:
                cursor_start = at + 10
                raw = payload[cursor_start : payload.find(b'"', cursor_start)]
                if raw.isdigit():
                    rec.last_cursor = max(rec.last_cursor, int(raw))
            if kind == b"resync_required":
                rec.resyncs += 1
            elif not self.ready.done():
                self.ready.set_result(rec.last_cursor)

    def drop(self) -> None:
        """Vanish without a close frame, as a phone losing its network does."""
        if self.transport is not None:
            self.transport.abort()


async def connect_ws(host: str, port: int, path: str, received: Received) -> WSClient:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(
        lambda: WSClient(path, f"{host}:{port}", received), host, port
    )
    await asyncio.wait_for(proto.ready, 30)
    return proto


class HTTPConn(asyncio.Protocol):
    """A keep-alive HTTP/1.1 connection: one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.lost = False
        self.retry_after: float | None = None  # of the last answer

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end]).lower()
        at = head.find(b"content-length:")
        length = 0
        if at >= 0:
            stop = head.find(b"\r\n", at)
            length = int(head[at + 15 : stop if stop >= 0 else None])
        if len(buf) < end + 4 + length:
            return
        status = int(head[9:12])
        self.retry_after = _retry_after(head) if status in (429, 503) else None
        body = bytes(buf[end + 4 : end + 4 + length])
        del buf[: end + 4 + length]
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((status, body))

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        self._waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return self._waiter


class HTTPPool:
    """Up to ``size`` keep-alive connections to 127.0.0.1:port."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self._idle: list[HTTPConn] = []
        self._open = 0
        self._freed = asyncio.Condition()

    async def _take(self) -> HTTPConn:
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.lost:
                    return conn
                self._open -= 1
            if self._open < self.size:
                self._open += 1
                try:
                    loop = asyncio.get_running_loop()
                    _, conn = await loop.create_connection(HTTPConn, self.host, self.port)
                except BaseException:
                    self._open -= 1
                    raise
                return conn
            async with self._freed:
                await self._freed.wait()

    async def _give(self, conn: HTTPConn) -> None:
        if conn.lost:
            self._open -= 1
        else:
            self._idle.append(conn)
        async with self._freed:
            self._freed.notify()

    def request_bytes(self, method: str, path: str, token: str, body: bytes) -> bytes:
        return (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def send(
        self, request: bytes, on_write: Callable[[], None] | None = None
    ) -> tuple[int, bytes]:
        """Send a prepared request; ``on_write`` runs just before the bytes are written."""
        conn = await self._take()
        try:
            if on_write is not None:
                on_write()
            return await asyncio.wait_for(conn.send(request), 30)
        except BaseException:
            if conn.transport is not None:
                conn.transport.close()
            conn.lost = True
            raise
        finally:
            await self._give(conn)

    async def send_for_retry(
        self, request: bytes, on_write: Callable[[], None] | None = None
    ) -> tuple[int, float | None]:
        """Like ``send``; answers the status and the Retry-After seconds of a 429/503."""
        conn = await self._take()
        try:
            if on_write is not None:
                on_write()
            status, _ = await asyncio.wait_for(conn.send(request), 30)
            return status, conn.retry_after
        except BaseException:
            if conn.transport is not None:
                conn.transport.close()
            conn.lost = True
            raise
        finally:
            await self._give(conn)

    def close(self) -> None:
        for conn in self._idle:
            if conn.transport is not None:
                conn.transport.close()
        self._idle.clear()
