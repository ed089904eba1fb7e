"""The ceiling: a bare WebSocket fan-out server on the same stack as Knock.

uvicorn + uvloop + httptools + websockets-sansio, no framework, no database, no auth: a
POST to ``/api/v1/conversations/{id}/messages`` builds a message frame shaped like Knock's
(cursor, type, message with the same fields), serializes it once with orjson and queues it
on every socket of the conversation; one writer task per socket sends it. The token of a
socket is its user id; ``POST /bench/setup`` says who is in which conversation.

Run: ``python -m bench.bare --port N``. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from collections import deque
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson
import uvicorn

Scope = dict[str, Any]

_ids = itertools.count(1)
members: dict[str, list[str]] = {}  # conversation id -> user ids
by_user: dict[str, set[Conn]] = {}
seqs: dict[str, int] = {}
cursor = itertools.count(1)


class Conn:
    __slots__ = ("queue", "wakeup")

    def __init__(self) -> None:
        self.queue: deque[str] = deque()
        self.wakeup = asyncio.Event()

    def push(self, frame: str) -> None:
        self.queue.append(frame)
        self.wakeup.set()


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _token(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"authorization":
            return value.decode()[7:]
    return ""


async def _http(scope: Scope, receive: Any, send: Any) -> None:
    path: str = scope["path"]
    if path == "/api/v1/health":
        await _respond(send, 200, b'{"status":"ok"}')
        return
    body = await _body(receive)
    if path == "/bench/setup":
        members.update(orjson.loads(body)["conversations"])
        await _respond(send, 204, b"")
        return
    parts = path.split("/")
    if len(parts) == 6 and parts[3] == "conversations" and parts[5] == "messages":
        conversation_id = parts[4]
        user_ids = members.get(conversation_id)
        if user_ids is None:
            await _respond(send, 404, b'{"error":{"code":"not_found"}}')
            return
        sent = orjson.loads(body)
        seq = seqs[conversation_id] = seqs.get(conversation_id, 0) + 1
        message = {
            "id": f"{next(_ids):026d}",
            "conversation_id": conversation_id,
            "seq": seq,
            "sender_id": _token(scope["headers"]),
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
        frame = (
            b'{"cursor":"%d","type":"message.created","message":' % next(cursor)
            + orjson.dumps(message)
            + b"}"
        ).decode()
        for user_id in user_ids:
            for conn in by_user.get(user_id, ()):
                conn.push(frame)
        await _respond(send, 201, orjson.dumps(message))
        return
    await _respond(send, 404, b'{"error":{"code":"not_found"}}')


async def _ws(scope: Scope, receive: Any, send: Any) -> None:
    query = parse_qs(scope["query_string"].decode())
    user_id = query.get("token", [""])[0]
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    conn = Conn()
    by_user.setdefault(user_id, set()).add(conn)
    await send({"type": "websocket.send", "text": '{"type":"ready","cursor":"0"}'})

    async def writer() -> None:
        while True:
            await conn.wakeup.wait()
            conn.wakeup.clear()
            while conn.queue:
                await send({"type": "websocket.send", "text": conn.queue.popleft()})

    task = asyncio.create_task(writer())
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                break
    finally:
        task.cancel()
        by_user[user_id].discard(conn)


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _ws(scope, receive, send)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same server options as ``knock serve``.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
