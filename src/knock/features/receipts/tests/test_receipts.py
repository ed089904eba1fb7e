"""Read cursors and read receipts, with receipt events sent inside the read transaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from knock.testing import (
    Member,
    create_group,
    create_org,
    expect,
    join_org,
    logged_events,
    register,
    send_text,
    team,
)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"receipt_coalesce_ms": 0}


async def read_seq(who: Member, conversation_id: str) -> int:
    return int(expect(await who.get(f"/conversations/{conversation_id}"), 200)["read_seq"])


async def test_the_read_cursor_moves_forward_only(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob, cat)
    for i in range(3):
        await send_text(ann, group, f"m{i}")
    await send_text(cat, group, "from cat")  # seq 4

    assert expect(await bob.post(f"/conversations/{group}/read", {"up_to_seq": 2}), 204) is None
    assert await read_seq(bob, group) == 2
    expect(await bob.post(f"/conversations/{group}/read", {"up_to_seq": 1}), 204)  # back: no-op
    assert await read_seq(bob, group) == 2
    expect(await bob.post(f"/conversations/{group}/read", {"up_to_seq": 99}), 204)  # clamped
    conversation = expect(await bob.get(f"/conversations/{group}"), 200)
    assert (conversation["read_seq"], conversation["unread_count"]) == (4, 0)

    events = await logged_events(app, "receipt.updated")
    assert [f["receipts"] for f, _ in events] == [
        [{"user_id": bob.id, "from_seq": 0, "up_to_seq": 2}],
        [{"user_id": bob.id, "from_seq": 2, "up_to_seq": 4}],
    ]
    assert all(f["conversation_id"] == group for f, _ in events)
    # To the reader and the senders of what was read, not to the whole group.
    assert events[0][1].conversation_id is None
    assert set(events[0][1].user_ids) == {bob.id, ann.id}
    assert set(events[1][1].user_ids) == {bob.id, ann.id, cat.id}


@pytest.mark.parametrize(
    "payload", [{}, {"up_to_seq": -1}, {"up_to_seq": "x"}, {"up_to_seq": 2**31}]
)
async def test_read_refuses_bad_input(http: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    ann = await register(http, "Ann")
    group = await create_group(ann, await create_org(ann))
    assert (await ann.post(f"/conversations/{group}/read", payload)).status_code == 422


async def test_outsiders_cannot_mark_read(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob)
    missing = await cat.post("/conversations/0000000000000000000000000a/read", {"up_to_seq": 1})
    refused = await cat.post(f"/conversations/{group}/read", {"up_to_seq": 1})
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()


async def test_who_has_read_a_message(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat, dan) = await team(http, "Ann", "Bob", "Cat", "Dan")
    admin = await register(http, "Adm")
    await join_org(ann, org_id, admin, role="admin")
    outsider = await register(http, "Eve")
    group = await create_group(bob, org_id, cat, dan, admin)
    first = await send_text(bob, group, "one")
    second = await send_text(bob, group, "two")
    expect(await cat.post(f"/conversations/{group}/read", {"up_to_seq": 2}), 204)
    expect(await dan.post(f"/conversations/{group}/read", {"up_to_seq": 1}), 204)

    receipts = expect(await bob.get(f"/messages/{second['id']}/receipts"), 200)
    assert set(receipts) == {"read", "unread", "read_count", "unread_count"}
    assert receipts["read"] == [cat.id]
    assert sorted(receipts["unread"]) == sorted([dan.id, admin.id])
    assert (receipts["read_count"], receipts["unread_count"]) == (1, 2)
    earlier = expect(await bob.get(f"/messages/{first['id']}/receipts"), 200)
    assert sorted(earlier["read"]) == sorted([cat.id, dan.id])
    # An org admin in the group may look; the org owner outside the group may not.
    assert expect(await admin.get(f"/messages/{second['id']}/receipts"), 200) == receipts

    missing = await bob.get("/messages/0000000000000000000000000a/receipts")
    for who in (cat, ann, outsider):
        response = await who.get(f"/messages/{second['id']}/receipts")
        assert response.status_code == 404
        assert response.json() == missing.json()
