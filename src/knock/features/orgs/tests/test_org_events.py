"""Org events: each change emits its typed event after commit, to the right audience, and
a client that applies them ends with the state it would fetch fresh."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from knock.core.db import Transaction
from knock.core.events import Audience
from knock.features.accounts.actions import Viewer
from knock.features.orgs.actions import Orgs
from knock.features.orgs.repository import membership
from knock.testing import Member, create_org, expect, join_org, logged_events, register

ORG_EVENTS = (
    "org.member_joined",
    "org.member_updated",
    "org.member_removed",
    "org.department_created",
)


async def _members(viewer: Member, org_id: str) -> dict[str, dict[str, Any]]:
    items = expect(await viewer.get(f"/orgs/{org_id}/members", params={"limit": 500}), 200)
    return {m["user_id"]: m for m in items["items"]}


async def test_each_change_emits_its_event(app: Any, http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    [(created, audience)] = await logged_events(app, *ORG_EVENTS)
    assert audience == Audience(org_id=org_id)
    assert int(created.pop("cursor")) > 0
    assert created == {
        "type": "org.member_joined",
        "org_id": org_id,
        "member": (await _members(ann, org_id))[ann.id],
    }

    await join_org(ann, org_id, bob)
    sales = expect(await ann.post(f"/orgs/{org_id}/departments", {"name": "Sales"}), 201)
    updated = expect(
        await ann.put(
            f"/orgs/{org_id}/members/{bob.id}", {"role": "admin", "department_id": sales["id"]}
        ),
        200,
    )
    expect(await ann.delete(f"/orgs/{org_id}/members/{bob.id}"), 204)

    events = [(frame, aud) for frame, aud in await logged_events(app, *ORG_EVENTS)][1:]
    frames = [{k: v for k, v in f.items() if k != "cursor"} for f, _ in events]
    assert frames[0]["type"] == "org.member_joined"
    assert frames[0]["member"]["user_id"] == bob.id
    assert frames[0]["member"]["role"] == "member"
    assert frames[1:] == [
        {"type": "org.department_created", "department": sales},
        {"type": "org.member_updated", "org_id": org_id, "member": updated},
        {"type": "org.member_removed", "org_id": org_id, "user_id": bob.id},
    ]
    assert [aud for _, aud in events] == [
        Audience(org_id=org_id),
        Audience(org_id=org_id),
        Audience(org_id=org_id),
        # The removed person hears it too, though no longer in the org.
        Audience(org_id=org_id, user_ids=(bob.id,)),
    ]
    cursors = [int(f["cursor"]) for f, _ in events]
    assert cursors == sorted(cursors)


async def test_refused_and_empty_changes_emit_nothing(app: Any, http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    await join_org(ann, org_id, bob)
    before = await logged_events(app)
    expect(await ann.put(f"/orgs/{org_id}/members/{bob.id}", {"role": "member"}), 200)
    expect(await ann.put(f"/orgs/{org_id}/members/{bob.id}", {}), 200)
    expect(await bob.put(f"/orgs/{org_id}/members/{bob.id}", {"role": "admin"}), 403)
    expect(await ann.delete(f"/orgs/{org_id}/members/{ann.id}"), 409)
    expect(await bob.post(f"/orgs/{org_id}/departments", {"name": "X"}), 403)
    code = expect(await ann.post(f"/orgs/{org_id}/invites", {}), 201)["code"]
    expect(await bob.post(f"/invites/{code}/accept"), 200)
    assert await logged_events(app) == before


async def test_members_built_from_events_match_a_fresh_fetch(
    app: Any, http: httpx.AsyncClient
) -> None:
    """The verify_action idea: replaying org events converges on the fetched state."""
    ann, bob, cat, dan = [await register(http, n) for n in ("Ann", "Bob", "Cat", "Dan")]
    org_id = await create_org(ann)
    await join_org(ann, org_id, bob, cat, dan)
    ops = expect(await ann.post(f"/orgs/{org_id}/departments", {"name": "Ops"}), 201)["id"]
    expect(await ann.put(f"/orgs/{org_id}/members/{bob.id}", {"role": "admin"}), 200)
    expect(await bob.put(f"/orgs/{org_id}/members/{cat.id}", {"department_id": ops}), 200)
    expect(await bob.delete(f"/orgs/{org_id}/members/{dan.id}"), 204)
    expect(await ann.put(f"/orgs/{org_id}/members/{cat.id}", {"role": "owner"}), 200)
    expect(await cat.put(f"/orgs/{org_id}/members/{cat.id}", {"department_id": None}), 200)
    expect(await ann.delete(f"/orgs/{org_id}/members/{ann.id}"), 204)

    state: dict[str, dict[str, Any]] = {}
    departments: list[dict[str, Any]] = []
    for frame, _ in await logged_events(app, *ORG_EVENTS):
        if frame["type"] in ("org.member_joined", "org.member_updated"):
            state[frame["member"]["user_id"]] = frame["member"]
        elif frame["type"] == "org.member_removed":
            del state[frame["user_id"]]
        else:
            departments.append(frame["department"])
    assert state == await _members(cat, org_id)
    assert departments == expect(await cat.get(f"/orgs/{org_id}/departments"), 200)["items"]


async def test_removal_runs_the_conversation_hook_in_its_transaction(
    app: Any, http: httpx.AsyncClient
) -> None:
    """The hook sees the member already gone; if it fails, nothing is removed or sent."""
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    await join_org(ann, org_id, bob)
    node = app.state.node
    calls: list[tuple[str, str, bool]] = []

    async def recording_hook(txn: Transaction, hook_org: str, user_id: str) -> None:
        still_there = await membership(txn.session, hook_org, user_id) is not None
        calls.append((hook_org, user_id, still_there))

    async def failing_hook(txn: Transaction, hook_org: str, user_id: str) -> None:
        raise RuntimeError("conversations are down")

    viewer = Viewer(user_id=ann.id, session_id="", display_name="Ann")
    before = await logged_events(app)
    failing = Orgs(node.db, node.settings, remove_from_org_conversations=failing_hook)
    with pytest.raises(RuntimeError, match="conversations are down"):
        await failing.do_remove_member(viewer, org_id, bob.id)
    expect(await bob.get(f"/orgs/{org_id}"), 200)
    assert await logged_events(app) == before

    recording = Orgs(node.db, node.settings, remove_from_org_conversations=recording_hook)
    await recording.do_remove_member(viewer, org_id, bob.id)
    assert calls == [(org_id, bob.id, False)]
    expect(await bob.get(f"/orgs/{org_id}"), 404)
