"""A lower ceiling: fan-out on raw asyncio protocols (uvloop), no ASGI, no uvicorn.

The same contract as ``bench.bare`` (POST a message, every member socket gets a
Knock-shaped ``message.created`` frame; ``POST /bench/setup`` says who is in which
conversation; the token is the user id), but the WebSocket frame, header included, is built
once per message and written to each member's transport as bytes. No backpressure, no
validation beyond what the load generator needs: it shows how cheap a Python fan-out can
be, not a server to ship. Run: ``python -m bench.rawfanout --port N`` (127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
from datetime import UTC, datetime
from typing import Any

import orjson

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B65"
members: dict[str, list[str]] = {}
by_user: dict[str, set[Conn]] = {}
seqs: dict[str, int] = {}
cursor = itertools.count(1)
ids = itertools.count(1)


def ws_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    if n < 65536:
        return bytes([0x81, 126]) + n.to_bytes(2, "big") + payload
    return bytes([0x81, 127]) + n.to_bytes(8, "big") + payload


def response(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 201: "Created", 204: "No Content", 404: "Not Found"}[status]
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


class Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.buf = bytearray()
        self.user = ""
        self.ws = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.ws:
            by_user.get(self.user, set()).discard(self)

    def data_received(self, data: bytes) -> None:
        if self.ws:
            # Client frames: only a close matters here (pings are not sent by the bench).
            if data and data[0] & 0x0F == 8:
                self.transport.close()
            return
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            body = bytes(self.buf[end + 4 : end + 4 + length])
            del self.buf[: end + 4 + length]
            self.handle(method, target, headers, body)
            if self.ws:
                return

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        path, _, query = target.partition("?")
        if path == "/api/v1/ws":
            key = headers.get("sec-websocket-key", "").encode()
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()  # noqa: S324 - RFC 6455
            self.transport.write(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
                + ws_frame(b'{"type":"ready","cursor":"0"}')
            )
            params = dict(p.partition("=")[::2] for p in query.split("&") if p)
            self.user = params.get("token", "")
            self.ws = True
            by_user.setdefault(self.user, set()).add(self)
            return
        if path == "/api/v1/health":
            self.transport.write(response(200, b'{"status":"ok"}'))
            return
        if path == "/bench/setup":
            members.update(orjson.loads(body)["conversations"])
            self.transport.write(response(204, b""))
            return
        parts = path.split("/")
        if method == "POST" and len(parts) == 6 and parts[5] == "messages":
            conversation_id = parts[4]
            user_ids = members.get(conversation_id)
            if user_ids is not None:
                sent = orjson.loads(body)
                seq = seqs[conversation_id] = seqs.get(conversation_id, 0) + 1
                message = orjson.dumps(
                    {
                        "id": f"{next(ids):026d}",
                        "conversation_id": conversation_id,
                        "seq": seq,
                        "sender_id": headers.get("authorization", "")[7:],
                        "client_msg_id": sent["client_msg_id"],
                        "type": "text",
                        "text": sent["text"],
                        "reply_to_id": None,
                        "mentions": [],
                        "created_at": datetime.now(UTC).isoformat(),
                        "edited_at": None,
                        "recalled": False,
                        "unread_count": None,
                    }
                )
                frame = ws_frame(
                    b'{"cursor":"%d","type":"message.created","message":' % next(cursor)
                    + message
                    + b"}"
                )
                for user_id in user_ids:
                    for conn in by_user.get(user_id, ()):
                        conn.transport.write(frame)
                self.transport.write(response(201, message))
                return
        self.transport.write(response(404, b'{"error":{"code":"not_found"}}'))


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Conn, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvloop

    uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
