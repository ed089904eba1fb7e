"""Plain text sends take the raw path (SQLite: a raw transaction in a group commit;
PostgreSQL: one call of knock_send_text): what they store, publish and answer."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import websockets

from knock.core.events import encode_frame, join_frame, split_frame
from knock.features.messages.events import MessageCreated
from knock.features.messages.schemas import MessageOut
from knock.realtime.eventlog import events_between
from knock.testing import create_group, expect, send_text, team

# Quotes, a key-like "seq":0 and a cursor inside the text, escapes, non-ASCII, a line
# separator: none of it may move where the database puts the seq and the cursor.
TRICKY = 'say "seq":0, {"cursor":"1"} \\" \\u0000 你好 \u2028 "seq":'


def _event(message: dict[str, Any]) -> MessageCreated:
    return MessageCreated(message=MessageOut.model_validate({**message, "unread_count": None}))


def test_a_split_frame_joins_into_the_frame_of_the_event_with_that_number() -> None:
    template = {
        "id": "01JB0000000000000000000000",
        "conversation_id": "01JB0000000000000000000001",
        "seq": 0,
        "sender_id": "01JB0000000000000000000002",
        "client_msg_id": "c",
        "type": "text",
        "text": TRICKY,
        "reply_to_id": None,
        "mentions": [],
        "created_at": "2026-12-06T14:00:00.123456Z",
        "edited_at": None,
        "recalled": False,
    }
    before, after = split_frame(_event(template), "seq")
    for cursor, seq in [(1, 1), (987_654_321_012, 2_147_483_647)]:
        expected = encode_frame(cursor, _event({**template, "seq": seq}))
        assert join_frame(cursor, before, seq, after) == expected
    with pytest.raises(ValueError, match="seq"):
        split_frame(_event({**template, "seq": 5}), "seq")
    with pytest.raises(ValueError, match="cursor"):
        split_frame(_event(template), "cursor")


async def test_a_plain_send_publishes_exactly_the_frame_it_stores(
    app: Any, http: httpx.AsyncClient, live: str
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    async with websockets.connect(f"ws://{live}/api/v1/ws?token={bob.token}") as socket:
        assert orjson.loads(await socket.recv())["type"] == "ready"
        sent = [await send_text(ann, group, TRICKY), await send_text(bob, group, "second")]
        received: list[bytes] = []
        while len(received) < 2:
            frame = await socket.recv()
            raw = frame.encode() if isinstance(frame, str) else frame
            if orjson.loads(raw)["type"] == "message.created":
                received.append(raw)
    async with app.state.node.db.read() as session:
        stored = [e for e in await events_between(session, 0, 2**62) if e.type == "message.created"]
    assert [e.frame for e in stored] == received
    for event, message in zip(stored, sent, strict=True):
        assert event.frame == encode_frame(event.id, _event(message))
        assert event.audience.conversation_id == group
    assert [m["seq"] for m in sent] == [1, 2]
    assert [m["unread_count"] for m in sent] == [1, 1]
    page = expect(await bob.get(f"/conversations/{group}/messages"), 200)
    assert [m["text"] for m in page["items"]] == [TRICKY, "second"]
