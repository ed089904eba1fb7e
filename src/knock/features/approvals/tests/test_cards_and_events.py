"""Approval cards in chat and approval events over a real WebSocket: participants hear every
change; a conversation member outside the flow sees only the card's summary."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import websockets

from knock.features.approvals.tests.test_flows import builtin, company, leave, submit
from knock.testing import create_group, expect, logged_events


async def test_cards_go_to_each_steps_approvers_in_their_dms(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.sam, c.org_id, "leave")
    approval = await submit(
        c.sam, c.org_id, template["id"], leave("2026-12-07", "2026-12-11"), summary="Leave, Dec"
    )

    async def cards_of(member: Any) -> list[dict[str, Any]]:
        listed = expect(await member.get("/conversations"), 200)["items"]
        cards = []
        for conversation in listed:
            page = expect(await member.get(f"/conversations/{conversation['id']}/messages"), 200)
            cards += [m for m in page["items"] if m["type"] == "approval"]
        return cards

    (card,) = await cards_of(c.lee)
    assert (card["approval_id"], card["text"], card["sender_id"]) == (
        approval["id"],
        "Leave, Dec",
        c.sam.id,
    )
    assert await cards_of(c.vic) == []  # not his turn yet
    expect(await c.lee.post(f"/approvals/{approval['id']}/approve", {}), 200)
    (vic_card,) = await cards_of(c.vic)
    assert vic_card["approval_id"] == approval["id"]
    # A card is not a text the sender may rewrite.
    edit = await c.sam.patch(f"/messages/{card['id']}", {"text": "Leave, approved!"})
    assert edit.status_code == 422


async def test_a_card_in_a_group_shows_others_only_the_summary(http: httpx.AsyncClient) -> None:
    c = await company(http)
    group = await create_group(c.sam, c.org_id, c.outsider, c.lee, title="Backend")
    template = await builtin(c.sam, c.org_id, "general")
    values = {"title": "Secret raise", "details": "Please double my salary"}
    approval = await submit(c.sam, c.org_id, template["id"], values, conversation_id=group)
    page = expect(await c.outsider.get(f"/conversations/{group}/messages"), 200)
    (card,) = [m for m in page["items"] if m["type"] == "approval"]
    assert (card["approval_id"], card["text"]) == (approval["id"], "General request")
    assert "double" not in orjson.dumps(page).decode()
    # The outsider is in the conversation but not in the flow: the approval does not exist.
    for path in (f"/approvals/{approval['id']}", f"/approvals/{approval['id']}/audit"):
        refused = await c.outsider.get(path)
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    refused = await c.outsider.post(f"/approvals/{approval['id']}/approve", {})
    assert refused.status_code == 404
    # Admins see every approval of the team.
    expect(await c.ann.get(f"/approvals/{approval['id']}"), 200)

    # Not the submitter's conversation (or another team's): refused, nothing written.
    other = await create_group(c.vic, c.org_id, c.lee, title="Leads")
    body = {
        "template_id": template["id"],
        "client_request_id": uuid.uuid4().hex,
        "values": values,
        "conversation_id": other,
    }
    bad = await c.sam.post(f"/orgs/{c.org_id}/approvals", body)
    assert bad.status_code == 422 and "conversation_id" in bad.json()["error"]["message"]


async def test_events_reach_participants_only(http: httpx.AsyncClient, app: Any) -> None:
    c = await company(http)
    template = await builtin(c.sam, c.org_id, "leave")
    approval = await submit(c.sam, c.org_id, template["id"], leave("2026-12-07", "2026-12-08"))
    expect(await c.lee.post(f"/approvals/{approval['id']}/approve", {}), 200)
    logged = await logged_events(app, "approval.created", "approval.updated")
    assert [frame["type"] for frame, _ in logged] == ["approval.created", "approval.updated"]
    created, audience = logged[0]
    # Vic heads the second level, a step a two-day leave skips: he hears nothing.
    assert set(audience.user_ids) == {c.sam.id, c.lee.id, c.hana.id}
    assert audience.org_id is None and audience.conversation_id is None
    assert created["approval"]["id"] == approval["id"]
    updated, _ = logged[1]
    assert updated["approval"]["current_step"] == 2  # the short leave skips the second head


async def next_frame(socket: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = orjson.loads(await asyncio.wait_for(socket.recv(), 10))
        if frame["type"] == kind:
            return frame


async def test_a_websocket_hears_the_approval_change(http: httpx.AsyncClient, live: str) -> None:
    c = await company(http)
    template = await builtin(c.sam, c.org_id, "leave")
    url = f"ws://{live}/api/v1/ws?token={c.sam.token}"
    async with websockets.connect(url) as socket:
        approval = await submit(c.sam, c.org_id, template["id"], leave("2026-12-07", "2026-12-08"))
        created = await next_frame(socket, "approval.created")
        assert created["approval"] == approval
        decided = expect(
            await c.lee.post(f"/approvals/{approval['id']}/reject", {"comment": "Busy week"}), 200
        )
        updated = await next_frame(socket, "approval.updated")
        assert updated["approval"] == decided
        assert int(updated["cursor"]) > int(created["cursor"])
    # What the events built is what a fresh read shows.
    assert expect(await c.sam.get(f"/approvals/{approval['id']}"), 200) == decided
