"""DING over HTTP: sending, seeing, confirming, re-DINGing, listing, the team's ladder, and
the limits (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import select

from knock.core.clock import utcnow
from knock.features.ding.models import DingStep
from knock.testing import Member, create_group, expect, logged_events, send_text, team


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ding_per_hour": 5, "ding_max_recipients": 3}


def ding_body(
    *people: Member, text: str = "Server room is flooding", **more: Any
) -> dict[str, Any]:
    return {
        "client_ding_id": uuid.uuid4().hex,
        "recipient_ids": [p.id for p in people],
        "text": text,
        **more,
    }


async def test_a_ding_reaches_its_recipients_who_confirm_it(
    http: httpx.AsyncClient, app: Any
) -> None:
    org, (ann, bob, cat, dan) = await team(http, "Ann", "Bob", "Cat", "Dan")
    ding = expect(await ann.post(f"/orgs/{org}/dings", ding_body(bob, cat)), 201)
    assert ding["sender_id"] == ann.id and ding["recipient_count"] == 2
    assert [r["user_id"] for r in ding["recipients"]] == sorted([bob.id, cat.id])
    for entry in ding["recipients"]:
        assert entry["confirmed_at"] is None
        assert entry["last_step"] == "in_app"
        assert entry["next_step"] == "email"

    # A recipient sees their own entry only; someone else in the team sees nothing.
    seen = expect(await bob.get(f"/dings/{ding['id']}"), 200)
    assert [r["user_id"] for r in seen["recipients"]] == [bob.id]
    assert seen["text"] == "Server room is flooding"
    expect(await dan.get(f"/dings/{ding['id']}"), 404)
    expect(await dan.post(f"/dings/{ding['id']}/confirm"), 404)

    confirmed = expect(await bob.post(f"/dings/{ding['id']}/confirm"), 200)
    (mine,) = confirmed["recipients"]
    assert mine["confirmed_at"] is not None and mine["next_step"] is None
    again = expect(await bob.post(f"/dings/{ding['id']}/confirm"), 200)
    assert again["recipients"][0]["confirmed_at"] == mine["confirmed_at"]
    expect(await ann.post(f"/dings/{ding['id']}/confirm"), 403)

    full = expect(await ann.get(f"/dings/{ding['id']}"), 200)
    states = {r["user_id"]: r["confirmed_at"] is not None for r in full["recipients"]}
    assert states == {bob.id: True, cat.id: False}

    created = await logged_events(app, "ding.created")
    audiences = sorted(audience.user_ids for _, audience in created)
    assert audiences == sorted([(ann.id,), (bob.id,), (cat.id,)])
    for frame, audience in created:
        shown = [r["user_id"] for r in frame["ding"]["recipients"]]
        assert shown == (
            sorted([bob.id, cat.id]) if audience.user_ids == (ann.id,) else list(audience.user_ids)
        )
    updated = await logged_events(app, "ding.updated")
    assert [(f["change"], f["recipient"]["user_id"], set(a.user_ids)) for f, a in updated] == [
        ("confirmed", bob.id, {ann.id, bob.id})
    ]


async def test_a_retry_gives_the_same_ding_and_a_reused_id_conflicts(
    http: httpx.AsyncClient,
) -> None:
    org, (ann, bob) = await team(http, "Ann", "Bob")
    body = ding_body(bob)
    first = expect(await ann.post(f"/orgs/{org}/dings", body), 201)
    second = expect(await ann.post(f"/orgs/{org}/dings", body), 200)
    assert second == first
    other = {**body, "text": "something else"}
    conflict = expect(await ann.post(f"/orgs/{org}/dings", other), 409)
    assert conflict["error"]["code"] == "client_ding_id_reused"


async def test_recipients_and_text_are_checked(http: httpx.AsyncClient) -> None:
    org, (ann, bob, cat, dan, eve) = await team(http, "Ann", "Bob", "Cat", "Dan", "Eve")
    _, (stranger,) = await team(http, "Sam")
    url = f"/orgs/{org}/dings"
    assert expect(await ann.post(url, ding_body(bob, stranger)), 422)["error"]["code"] == (
        "not_org_members"
    )
    expect(await ann.post(url, ding_body(ann)), 422)
    too_many = expect(await ann.post(url, ding_body(bob, cat, dan, eve)), 422)
    assert too_many["error"]["code"] == "too_many_recipients"
    expect(await ann.post(url, ding_body(bob, text="   ")), 422)
    expect(await ann.post(url, ding_body(bob, text="x" * 10_001)), 422)
    expect(await ann.post(url, {**ding_body(), "recipient_ids": []}), 422)
    # Duplicates count once.
    ding = expect(await ann.post(url, ding_body(bob, bob, cat, dan)), 201)
    assert ding["recipient_count"] == 3
    # Not in the team: 404 like a team that does not exist.
    expect(await stranger.post(url, ding_body(bob)), 404)


async def test_a_ding_about_a_message_needs_recipients_who_can_see_it(
    http: httpx.AsyncClient,
) -> None:
    org, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org, bob, title="Ops")
    message = await send_text(ann, group, "Deploy at 5")
    url = f"/orgs/{org}/dings"
    ding = expect(await ann.post(url, ding_body(bob, text="", message_id=message["id"])), 201)
    assert (ding["message_id"], ding["conversation_id"], ding["text"]) == (message["id"], group, "")
    # Cat is not in the conversation; a message Cat cannot see is no message for her.
    expect(await ann.post(url, ding_body(cat, message_id=message["id"])), 422)
    expect(await cat.post(url, ding_body(bob, message_id=message["id"])), 422)
    burn = expect(
        await ann.post(
            f"/conversations/{group}/messages",
            {"client_msg_id": uuid.uuid4().hex, "text": "secret", "burn_after_s": 10},
        ),
        201,
    )
    expect(await ann.post(url, ding_body(bob, message_id=burn["id"])), 422)
    expect(await ann.post(f"/messages/{message['id']}/recall"), 200)
    expect(await ann.post(url, ding_body(bob, message_id=message["id"])), 422)


async def test_the_hourly_limit_counts_dings_and_redings(http: httpx.AsyncClient) -> None:
    org, (ann, bob) = await team(http, "Ann", "Bob")
    url = f"/orgs/{org}/dings"
    first = expect(await ann.post(url, ding_body(bob)), 201)
    for _ in range(3):
        expect(await ann.post(url, ding_body(bob)), 201)
    expect(await ann.post(f"/dings/{first['id']}/reding"), 200)
    limited = await ann.post(url, ding_body(bob))
    assert expect(limited, 429)["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    expect(await ann.post(f"/dings/{first['id']}/reding"), 429)
    # Someone else's limit is their own; a retry of a DING already made is not a new one.
    expect(await bob.post(url, ding_body(ann)), 201)


async def test_reding_restarts_the_ladder_of_those_who_have_not_confirmed(
    http: httpx.AsyncClient, app: Any
) -> None:
    org, (ann, bob, cat, dan) = await team(http, "Ann", "Bob", "Cat", "Dan")
    ding = expect(await ann.post(f"/orgs/{org}/dings", ding_body(bob, cat)), 201)
    expect(await bob.post(f"/dings/{ding['id']}/confirm"), 200)
    expect(await bob.post(f"/dings/{ding['id']}/reding"), 403)
    redinged = expect(await ann.post(f"/dings/{ding['id']}/reding", {}), 200)
    by_user = {r["user_id"]: r for r in redinged["recipients"]}
    assert by_user[cat.id]["dinged_at"] > ding["recipients"][1]["dinged_at"]
    assert by_user[bob.id]["dinged_at"] == ding["recipients"][0]["dinged_at"]
    events = await logged_events(app, "ding.updated")
    assert [(f["change"], f["recipient"]["user_id"]) for f, _ in events][-1] == ("reding", cat.id)
    expect(await ann.post(f"/dings/{ding['id']}/reding", {"recipient_ids": [dan.id]}), 422)
    expect(await cat.post(f"/dings/{ding['id']}/confirm"), 200)
    done = expect(await ann.post(f"/dings/{ding['id']}/reding", {"recipient_ids": [cat.id]}), 409)
    assert done["error"]["code"] == "all_confirmed"


async def test_lists_of_received_and_sent_dings_page_newest_first(
    http: httpx.AsyncClient,
) -> None:
    org, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    sent = [
        expect(await ann.post(f"/orgs/{org}/dings", ding_body(bob, cat)), 201) for _ in range(3)
    ]
    expect(await bob.post(f"/dings/{sent[1]['id']}/confirm"), 200)
    url = f"/orgs/{org}/dings"
    page = expect(await bob.get(url, params={"limit": 2}), 200)
    assert [d["id"] for d in page["items"]] == [sent[2]["id"], sent[1]["id"]]
    assert all(len(d["recipients"]) == 1 for d in page["items"])
    rest = expect(await bob.get(url, params={"limit": 2, "before": page["next_before"]}), 200)
    assert [d["id"] for d in rest["items"]] == [sent[0]["id"]] and rest["next_before"] is None
    waiting = expect(await bob.get(url, params={"unconfirmed": "true"}), 200)
    assert [d["id"] for d in waiting["items"]] == [sent[2]["id"], sent[0]["id"]]
    mine = expect(await ann.get(url, params={"box": "sent"}), 200)
    assert len(mine["items"]) == 3 and all(len(d["recipients"]) == 2 for d in mine["items"])
    assert expect(await ann.get(url), 200)["items"] == []
    expect(await ann.get(url, params={"box": "elsewhere"}), 422)


async def test_admins_set_the_teams_ladder_and_members_read_it(
    http: httpx.AsyncClient,
) -> None:
    org, (ann, bob) = await team(http, "Ann", "Bob")
    url = f"/orgs/{org}/ding-settings"
    defaults = expect(await bob.get(url), 200)
    assert (defaults["email_after_s"], defaults["gateway_after_s"]) == (300, 900)
    assert defaults["email_available"] is False and defaults["gateway_available"] is False
    body = {
        "email_after_s": 120,
        "gateway_after_s": 600,
        "email_enabled": True,
        "gateway_enabled": False,
    }
    expect(await bob.put(url, body), 403)
    assert expect(await ann.put(url, body), 200)["email_after_s"] == 120
    assert expect(await bob.get(url), 200)["gateway_enabled"] is False
    expect(await ann.put(url, {**body, "email_after_s": 59}), 422)
    expect(await ann.put(url, {**body, "gateway_enabled": True, "gateway_after_s": 120}), 422)
    expect(await ann.put(url, {**body, "gateway_after_s": 8 * 24 * 3600}), 422)
    # A DING keeps the ladder it was sent with: email only, no gateway after it.
    ding = expect(await ann.post(f"/orgs/{org}/dings", ding_body(bob)), 201)
    (entry,) = ding["recipients"]
    assert entry["next_step"] == "email"


async def test_without_smtp_and_gateway_the_steps_are_passed_over(
    http: httpx.AsyncClient, app: Any
) -> None:
    """This server has neither: the ladder ends quietly and says what it could not do."""
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        settings = expect(await ann.get(f"/orgs/{org}/ding-settings"), 200)
        assert (settings["email_available"], settings["gateway_available"]) == (False, False)
        ding = expect(await ann.post(f"/orgs/{org}/dings", ding_body(bob)), 201)
        clock.move_to(start + timedelta(seconds=301))
        assert await app.state.node.ding_escalation.run_once() == 1
        (entry,) = expect(await ann.get(f"/dings/{ding['id']}"), 200)["recipients"]
        assert (entry["last_step"], entry["next_step"]) == ("in_app", "gateway")
        clock.move_to(start + timedelta(seconds=901))
        assert await app.state.node.ding_escalation.run_once() == 1
        clock.move_to(start + timedelta(days=1))
        assert await app.state.node.ding_escalation.run_once() == 0
    (entry,) = expect(await ann.get(f"/dings/{ding['id']}"), 200)["recipients"]
    assert (entry["last_step"], entry["next_step"]) == ("in_app", None)
    async with app.state.node.db.read() as session:
        steps = (await session.execute(select(DingStep.step, DingStep.outcome))).all()
    assert sorted(tuple(s) for s in steps) == [
        ("email", "not_configured"),
        ("gateway", "not_configured"),
    ]


async def test_the_hourly_limit_holds_for_dings_sent_at_the_same_moment(
    http: httpx.AsyncClient,
) -> None:
    org, (ann, bob) = await team(http, "Ann", "Bob")
    answers = await asyncio.gather(
        *(ann.post(f"/orgs/{org}/dings", ding_body(bob)) for _ in range(8))
    )
    assert sorted(a.status_code for a in answers) == [201] * 5 + [429] * 3
