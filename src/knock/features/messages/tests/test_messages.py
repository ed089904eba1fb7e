"""Messages: sending (idempotent, gapless seqs), pages, edits, recalls and their events."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine

from knock.core.clock import utcnow
from knock.testing import (
    create_group,
    expect,
    logged_events,
    register,
    send_text,
    team,
)

MESSAGE_FIELDS = {
    "id",
    "conversation_id",
    "seq",
    "sender_id",
    "client_msg_id",
    "type",
    "text",
    "reply_to_id",
    "mentions",
    "created_at",
    "edited_at",
    "recalled",
    "unread_count",
    "media",
    "burn_after_s",
    "burn_expires_at",
    "burned",
    "approval_id",
}


def body(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"client_msg_id": uuid.uuid4().hex, "text": text, **extra}


async def test_send_a_message(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob, cat)
    sent = {"client_msg_id": "c-1", "text": "  raw *text*  "}
    message = expect(await ann.post(f"/conversations/{group}/messages", sent), 201)
    assert set(message) == MESSAGE_FIELDS
    assert message["text"] == "  raw *text*  "  # stored raw
    assert (message["seq"], message["sender_id"], message["client_msg_id"]) == (1, ann.id, "c-1")
    assert (message["type"], message["reply_to_id"], message["mentions"]) == ("text", None, [])
    assert (message["edited_at"], message["recalled"]) == (None, False)
    assert message["created_at"].endswith("Z")
    assert message["unread_count"] == 2  # Bob and Cat
    second = await send_text(bob, group, "second")
    assert second["seq"] == 2
    assert second["unread_count"] == 2  # Ann has read only her own message

    # The sender's cursor moves to their own message; the others have it unread.
    seen = {
        who.display_name: expect(await who.get(f"/conversations/{group}"), 200)
        for who in (ann, bob, cat)
    }
    assert {k: (c["last_seq"], c["read_seq"], c["unread_count"]) for k, c in seen.items()} == {
        "Ann": (2, 1, 1),
        "Bob": (2, 2, 0),
        "Cat": (2, 0, 2),
    }
    # Bob sees Ann's message without an unread_count (not his own).
    fetched = expect(await bob.get(f"/messages/{message['id']}"), 200)
    assert fetched == {**message, "unread_count": None}

    events = await logged_events(app, "message.created")
    assert [f["message"] for f, _ in events] == [
        {**message, "unread_count": None},
        {**second, "unread_count": None},
    ]
    assert all(a.conversation_id == group and a.user_ids == () for _, a in events)


async def test_a_retry_returns_the_original(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    sent = body("once", mentions=[bob.id])
    first = expect(await ann.post(f"/conversations/{group}/messages", sent), 201)
    # Same body, key order and defaults spelled out: the same message, 200.
    spelled = {"type": "text", "reply_to_id": None, **dict(reversed(sent.items()))}
    again = expect(await ann.post(f"/conversations/{group}/messages", spelled), 200)
    assert again == first
    reused = await ann.post(f"/conversations/{group}/messages", {**sent, "text": "other"})
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "client_msg_id_reused"
    # Another sender may use the same client_msg_id.
    theirs = expect(await bob.post(f"/conversations/{group}/messages", sent), 201)
    assert theirs["seq"] == 2
    assert len(await logged_events(app, "message.created")) == 2


async def test_concurrent_retries_make_one_message(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    sent = body("racing")
    responses = await asyncio.gather(
        *[ann.post(f"/conversations/{group}/messages", sent) for _ in range(6)]
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    following = await send_text(ann, group, "next")
    assert following["seq"] == 2


async def test_concurrent_sends_get_gapless_seqs(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    results = await asyncio.gather(
        *[send_text(ann if i % 2 else bob, group, f"m{i}") for i in range(50)]
    )
    assert sorted(m["seq"] for m in results) == list(range(1, 51))
    page = expect(await ann.get(f"/conversations/{group}/messages", params={"limit": 200}), 200)
    assert [m["seq"] for m in page["items"]] == list(range(1, 51))
    conversation = expect(await ann.get(f"/conversations/{group}"), 200)
    assert conversation["last_seq"] == 50


@pytest.mark.parametrize(
    "payload",
    [
        {"client_msg_id": "", "text": "x"},
        {"client_msg_id": "x" * 65, "text": "x"},
        {"client_msg_id": "a", "text": ""},
        {"client_msg_id": "a", "text": "x" * 10_001},
        {"client_msg_id": "a", "text": "x", "type": "image"},
        {"client_msg_id": "a", "text": "x", "color": "red"},
        {"client_msg_id": "a", "text": "x", "mentions": ["x"] * 1001},
        {"client_msg_id": "a", "text": "x", "reply_to_id": "NOT AN ID"},
        {"text": "x"},
    ],
)
async def test_send_refuses_bad_input(http: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    org_id, (ann,) = await team(http, "Ann")
    group = await create_group(ann, org_id)
    response = await ann.post(f"/conversations/{group}/messages", payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_the_longest_text_is_accepted(http: httpx.AsyncClient) -> None:
    org_id, (ann,) = await team(http, "Ann")
    group = await create_group(ann, org_id)
    long = expect(await ann.post(f"/conversations/{group}/messages", body("é" * 10_000)), 201)
    assert len(long["text"]) == 10_000


async def test_replies_stay_in_their_conversation(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    other = await create_group(ann, org_id, bob)
    original = await send_text(bob, group, "question")
    elsewhere = await send_text(bob, other, "elsewhere")
    reply = expect(
        await ann.post(f"/conversations/{group}/messages", body(reply_to_id=original["id"])), 201
    )
    assert reply["reply_to_id"] == original["id"]
    for target in (elsewhere["id"], "0000000000000000000000000a"):
        refused = await ann.post(f"/conversations/{group}/messages", body(reply_to_id=target))
        assert refused.status_code == 422


async def test_mentions_are_members_or_all(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob)
    sent = expect(
        await bob.post(f"/conversations/{group}/messages", body(mentions=[ann.id, ann.id])), 201
    )
    assert sent["mentions"] == [ann.id]
    everyone = expect(
        await bob.post(f"/conversations/{group}/messages", body(mentions=["all"])), 201
    )
    assert everyone["mentions"] == ["all"]
    for mentions in ([cat.id], ["all", ann.id], ["0000000000000000000000000a"]):
        refused = await bob.post(f"/conversations/{group}/messages", body(mentions=mentions))
        assert refused.status_code == 422, mentions


async def test_outsiders_cannot_see_or_send(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    outsider = await register(http, "Eve")
    group = await create_group(ann, org_id, bob)
    message = await send_text(ann, group, "private")
    missing_conversation = await ann.get("/conversations/0000000000000000000000000a/messages")
    missing_message = await ann.get("/messages/0000000000000000000000000a")
    assert missing_conversation.status_code == missing_message.status_code == 404
    for who in (cat, outsider):
        for response in [
            await who.post(f"/conversations/{group}/messages", body()),
            await who.get(f"/conversations/{group}/messages"),
            await who.get(f"/messages/{message['id']}"),
            await who.patch(f"/messages/{message['id']}", {"text": "x"}),
            await who.post(f"/messages/{message['id']}/recall"),
        ]:
            assert response.status_code == 404
            assert response.json() == missing_message.json()


async def test_message_pages(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    for i in range(7):
        await send_text(ann, group, f"m{i + 1}")

    async def page(**params: Any) -> tuple[list[int], bool]:
        got = expect(await bob.get(f"/conversations/{group}/messages", params=params), 200)
        return [m["seq"] for m in got["items"]], got["has_more"]

    assert await page() == ([1, 2, 3, 4, 5, 6, 7], False)
    assert await page(limit=3) == ([5, 6, 7], True)
    assert await page(limit=3, before_seq=5) == ([2, 3, 4], True)
    assert await page(limit=3, before_seq=2) == ([1], False)
    assert await page(limit=3, after_seq=0) == ([1, 2, 3], True)
    assert await page(limit=3, after_seq=4) == ([5, 6, 7], False)
    assert await page(after_seq=7) == ([], False)
    for bad in (
        {"after_seq": 1, "before_seq": 5},
        {"limit": 0},
        {"limit": 201},
        {"after_seq": -1},
        {"before_seq": "x"},
    ):
        response = await bob.get(f"/conversations/{group}/messages", params=bad)
        assert response.status_code == 422, bad


async def test_unread_count_on_my_messages(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat, dan) = await team(http, "Ann", "Bob", "Cat", "Dan")
    group = await create_group(ann, org_id, bob, cat, dan)
    for i in range(3):
        await send_text(ann, group, f"a{i}")  # seqs 1, 2, 3
    await send_text(bob, group, "b")  # seq 4: Bob has read up to 4
    expect(await cat.post(f"/conversations/{group}/read", {"up_to_seq": 2}), 204)
    items = expect(await ann.get(f"/conversations/{group}/messages"), 200)["items"]
    # Others than Ann: Bob read 4, Cat read 2, Dan read 0.
    assert [m["unread_count"] for m in items] == [1, 1, 2, None]
    bobs = expect(await bob.get(f"/conversations/{group}/messages"), 200)["items"]
    assert [m["unread_count"] for m in bobs] == [None, None, None, 3]  # Ann 3, Cat 2, Dan 0
    one = expect(await ann.get(f"/messages/{items[2]['id']}"), 200)
    assert one["unread_count"] == 2


async def test_edit_my_message(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    message = await send_text(ann, group, "tpyo")
    edited = expect(await ann.patch(f"/messages/{message['id']}", {"text": "typo"}), 200)
    assert edited["text"] == "typo"
    assert edited["edited_at"] is not None
    assert edited["edited_at"] >= message["created_at"]
    assert (edited["seq"], edited["id"]) == (message["seq"], message["id"])
    [(frame, audience)] = await logged_events(app, "message.updated")
    assert frame["message"] == {**edited, "unread_count": None}
    assert audience.conversation_id == group

    not_mine = await bob.patch(f"/messages/{message['id']}", {"text": "mine now"})
    assert not_mine.status_code == 403
    for bad in ({"text": ""}, {"text": "x" * 10_001}, {}):
        assert (await ann.patch(f"/messages/{message['id']}", bad)).status_code == 422


async def test_recall_my_message_within_the_window(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    with time_machine.travel(utcnow(), tick=True) as traveller:
        message = expect(
            await ann.post(f"/conversations/{group}/messages", body("oops", mentions=[bob.id])),
            201,
        )
        assert (await bob.post(f"/messages/{message['id']}/recall")).status_code == 403
        traveller.shift(timedelta(seconds=100))
        recalled = expect(await ann.post(f"/messages/{message['id']}/recall"), 200)
        assert (recalled["text"], recalled["mentions"], recalled["recalled"]) == ("", [], True)
        assert expect(await bob.get(f"/messages/{message['id']}"), 200)["text"] == ""
        [(frame, _)] = await logged_events(app, "message.updated")
        assert frame["message"] == {**recalled, "unread_count": None}
        # Recalling again changes nothing; editing a recalled message is a conflict.
        assert expect(await ann.post(f"/messages/{message['id']}/recall"), 200) == recalled
        assert len(await logged_events(app, "message.updated")) == 1
        edit = await ann.patch(f"/messages/{message['id']}", {"text": "back"})
        assert edit.status_code == 409

        late = await send_text(ann, group, "keep")
        traveller.shift(timedelta(seconds=121))
        refused = await ann.post(f"/messages/{late['id']}/recall")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "recall_window_passed"
        assert expect(await ann.get(f"/messages/{late['id']}"), 200)["text"] == "keep"


async def test_the_last_message_shows_in_the_conversation_list(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    await send_text(ann, group, "first")
    last = await send_text(ann, group, "second")
    [listed] = expect(await ann.get("/conversations"), 200)["items"]
    assert listed["last_message"] == last
    assert listed["last_message"]["unread_count"] == 1
    assert expect(await ann.get(f"/conversations/{group}"), 200)["last_message"] == last
