"""Receipt events are coalesced per conversation over receipt_coalesce_ms."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from knock.features.receipts.actions import merge_read
from knock.testing import (
    add_people,
    create_group,
    create_org,
    expect,
    logged_events,
    register,
    send_text,
    team,
)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The crowd below is about coalescing, not admission: a crowd slower than the standing-
    # queue interval would otherwise have its late arrivals refused (admission's own tests
    # cover that), and a retried read would make a second event.
    return {"receipt_coalesce_ms": 100, "max_inflight_writes": 1000, "max_inflight_requests": 1000}


def test_merging_keeps_the_widest_range() -> None:
    batch: dict[str, dict[str, tuple[int, int]]] = {}
    merge_read(batch, "c", "u", 2, 5)
    merge_read(batch, "c", "u", 5, 9)
    merge_read(batch, "c", "v", 0, 1)
    merge_read(batch, "d", "u", 3, 4)
    assert batch == {"c": {"u": (2, 9), "v": (0, 1)}, "d": {"u": (3, 4)}}


async def wait_for_events(app: Any, kind: str, count: int) -> list[Any]:
    for _ in range(100):
        events = await logged_events(app, kind)
        if len(events) >= count:
            return events
        await asyncio.sleep(0.05)
    return await logged_events(app, kind)


async def test_a_crowd_reading_at_once_makes_one_event(app: Any, http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    org_id = await create_org(ann)
    people = await add_people(http, app, org_id, 500)
    group = await create_group(ann, org_id, *people)
    other = await create_group(ann, org_id, *people[:2])
    await send_text(ann, group, "read me")
    await send_text(people[0], group, "me too")
    await send_text(ann, other, "and me")

    readers = people[1:]
    started = time.monotonic()
    responses = await asyncio.gather(
        *[p.post(f"/conversations/{group}/read", {"up_to_seq": 2}) for p in readers],
        people[0].post(f"/conversations/{other}/read", {"up_to_seq": 1}),
    )
    assert {r.status_code for r in responses} == {204}
    # The cursors are committed at once, before any event.
    assert expect(await readers[5].get(f"/conversations/{group}"), 200)["read_seq"] == 2

    await wait_for_events(app, "receipt.updated", 2)
    await asyncio.sleep(0.3)
    events = await logged_events(app, "receipt.updated")
    elapsed = time.monotonic() - started
    by_conversation: dict[str, list[Any]] = {}
    for frame, audience in events:
        by_conversation.setdefault(frame["conversation_id"], []).append((frame, audience))
    # However the reads fell across intervals, each interval sent at most one event per
    # conversation, and every reader appears exactly once with their range.
    crowd = by_conversation[group]
    print(f"\n{len(readers)} readers in {elapsed:.2f} s: {len(crowd)} receipt events")
    assert len(crowd) <= elapsed / 0.1 + 1
    receipts = [r for frame, _ in crowd for r in frame["receipts"]]
    assert sorted(r["user_id"] for r in receipts) == sorted(p.id for p in readers)
    assert {(r["from_seq"], r["up_to_seq"]) for r in receipts} == {(0, 2)}
    for frame, audience in crowd:
        assert audience.conversation_id is None
        assert set(audience.user_ids) == {r["user_id"] for r in frame["receipts"]} | {
            ann.id,
            people[0].id,
        }
    [(single, audience)] = by_conversation[other]
    assert single["receipts"] == [{"user_id": people[0].id, "from_seq": 0, "up_to_seq": 1}]
    assert set(audience.user_ids) == {people[0].id, ann.id}


async def test_pending_receipts_are_sent_on_shutdown(app: Any, http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    org_id = await create_org(ann)
    [bob] = await add_people(http, app, org_id, 1)
    group = await create_group(ann, org_id, bob)
    await send_text(ann, group, "hi")
    expect(await bob.post(f"/conversations/{group}/read", {"up_to_seq": 1}), 204)
    await app.state.node.receipt_coalescer.stop()
    [(frame, _)] = await logged_events(app, "receipt.updated")
    assert frame["receipts"] == [{"user_id": bob.id, "from_seq": 0, "up_to_seq": 1}]


async def test_a_coalesced_read_moves_the_cursor_forward_only(http: httpx.AsyncClient) -> None:
    """Coalesced reads take the plain SQL path: the same rules as the ORM one."""
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob)
    for i in range(3):
        await send_text(ann, group, f"m{i}")

    async def read_seq() -> int:
        return int(expect(await bob.get(f"/conversations/{group}"), 200)["read_seq"])

    expect(await bob.post(f"/conversations/{group}/read", {"up_to_seq": 2}), 204)
    assert await read_seq() == 2
    expect(await bob.post(f"/conversations/{group}/read", {"up_to_seq": 1}), 204)
    assert await read_seq() == 2
    expect(await bob.post(f"/conversations/{group}/read", {"up_to_seq": 99}), 204)
    assert await read_seq() == 3
    missing = await cat.post("/conversations/0000000000000000000000000a/read", {"up_to_seq": 1})
    refused = await cat.post(f"/conversations/{group}/read", {"up_to_seq": 1})
    too_long = await cat.post(f"/conversations/{'x' * 200}/read", {"up_to_seq": 1})
    assert refused.status_code == missing.status_code == too_long.status_code == 404
    assert refused.json() == missing.json()
