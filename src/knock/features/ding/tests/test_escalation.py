"""The escalation ladder with the clock moved forward (time-machine) and a real pass of the
escalator: a real SMTP server receives the email, a real HTTP gateway the call (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import select

from knock.core.clock import utcnow
from knock.core.db import Database
from knock.features.ding.delivery import DingDelivery
from knock.features.ding.escalation import DingEscalation
from knock.features.ding.models import DingStep
from knock.features.ding.tests.conftest import Gateway, Mailbox
from knock.realtime.eventlog import EventLog
from knock.testing import Member, expect, logged_events, team

EMAIL_AFTER = timedelta(seconds=300)
GATEWAY_AFTER = timedelta(seconds=900)


@pytest.fixture
def settings_overrides(mailbox: Mailbox, gateway: Gateway) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": mailbox.port,
        "smtp_from": "ding@knock.example",
        "ding_gateway_url": gateway.url,
        "ding_gateway_token": "gateway-secret",
        # The background job stays asleep: the tests run the passes themselves.
        "ding_poll_s": 60,
    }


async def ding(sender: Member, org: str, *people: Member, **more: Any) -> dict[str, Any]:
    body = {
        "client_ding_id": uuid.uuid4().hex,
        "recipient_ids": [p.id for p in people],
        "text": "The fire alarm in building B is on",
        **more,
    }
    result: dict[str, Any] = expect(await sender.post(f"/orgs/{org}/dings", body), 201)
    return result


def entry(ding_view: dict[str, Any], user_id: str) -> dict[str, Any]:
    (found,) = [r for r in ding_view["recipients"] if r["user_id"] == user_id]
    return found


async def run_pass(app: Any) -> int:
    handled: int = await app.state.node.ding_escalation.run_once()
    return handled


async def test_an_unconfirmed_recipient_is_emailed_then_called_and_a_confirmed_one_is_not(
    app: Any, http: httpx.AsyncClient, mailbox: Mailbox, gateway: Gateway
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
        sent = await ding(ann, org, bob, cat)
        expect(await cat.post(f"/dings/{sent['id']}/confirm"), 200)
        assert await run_pass(app) == 0

        clock.move_to(start + EMAIL_AFTER - timedelta(seconds=1))
        assert await run_pass(app) == 0
        assert mailbox.messages() == []

        clock.move_to(start + EMAIL_AFTER + timedelta(seconds=1))
        assert await run_pass(app) == 1
        ((rcpt, mail),) = mailbox.messages()
        assert rcpt == [bob.email]
        assert mail["To"].addresses[0].addr_spec == bob.email
        assert mail["Subject"] == "DING from Ann (Acme)"
        assert "The fire alarm in building B is on" in mail.get_content()
        assert gateway.recorded() == []
        view = expect(await ann.get(f"/dings/{sent['id']}"), 200)
        assert entry(view, bob.id)["last_step"] == "email"
        assert entry(view, bob.id)["next_step"] == "gateway"
        assert entry(view, cat.id)["last_step"] == "in_app"
        assert entry(view, cat.id)["next_step"] is None

        clock.move_to(start + GATEWAY_AFTER + timedelta(seconds=1))
        assert await run_pass(app) == 1
        (call,) = gateway.recorded()
        assert call.headers["Authorization"] == "Bearer gateway-secret"
        assert call.body["ding_id"] == sent["id"] and call.body["user_id"] == bob.id
        assert call.body["email"] == bob.email
        assert call.body["text"] == "The fire alarm in building B is on"
        assert call.headers["Idempotency-Key"] == call.body["idempotency_key"]
        view = expect(await bob.get(f"/dings/{sent['id']}"), 200)
        assert (view["recipients"][0]["last_step"], view["recipients"][0]["next_step"]) == (
            "gateway",
            None,
        )

        # The end of the ladder: nothing more, whenever.
        clock.move_to(start + timedelta(days=2))
        assert await run_pass(app) == 0
    assert len(mailbox.messages()) == 1 and len(gateway.recorded()) == 1
    steps = [
        (f["change"], f["recipient"]["user_id"], f["recipient"]["last_step"], set(a.user_ids))
        for f, a in await logged_events(app, "ding.updated")
    ]
    assert steps == [
        ("confirmed", cat.id, "in_app", {ann.id, cat.id}),
        ("step", bob.id, "email", {ann.id, bob.id}),
        ("step", bob.id, "gateway", {ann.id, bob.id}),
    ]


async def test_confirming_between_the_steps_stops_the_ladder(
    app: Any, http: httpx.AsyncClient, mailbox: Mailbox, gateway: Gateway
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        sent = await ding(ann, org, bob)
        clock.move_to(start + EMAIL_AFTER)
        assert await run_pass(app) == 1
        expect(await bob.post(f"/dings/{sent['id']}/confirm"), 200)
        clock.move_to(start + timedelta(days=1))
        assert await run_pass(app) == 0
    assert len(mailbox.messages()) == 1 and gateway.recorded() == []


async def test_a_reding_restarts_the_ladder_from_now(
    app: Any, http: httpx.AsyncClient, mailbox: Mailbox, gateway: Gateway
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        sent = await ding(ann, org, bob)
        clock.move_to(start + EMAIL_AFTER)
        assert await run_pass(app) == 1
        later = start + EMAIL_AFTER + timedelta(seconds=60)
        clock.move_to(later)
        again = expect(await ann.post(f"/dings/{sent['id']}/reding"), 200)
        assert entry(again, bob.id)["last_step"] == "in_app"
        assert entry(again, bob.id)["next_step"] == "email"
        clock.move_to(later + EMAIL_AFTER - timedelta(seconds=1))
        assert await run_pass(app) == 0
        clock.move_to(later + EMAIL_AFTER)
        assert await run_pass(app) == 1
        # The first ladder's gateway moment passes: the new ladder's is later.
        clock.move_to(start + GATEWAY_AFTER + timedelta(seconds=1))
        assert await run_pass(app) == 0
        clock.move_to(later + GATEWAY_AFTER)
        assert await run_pass(app) == 1
    assert len(mailbox.messages()) == 2 and len(gateway.recorded()) == 1


async def test_a_ding_about_a_message_carries_its_text_until_it_is_recalled(
    app: Any, http: httpx.AsyncClient, mailbox: Mailbox, gateway: Gateway
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        dm = expect(
            await ann.post(f"/orgs/{org}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
            201,
        )["id"]
        message = expect(
            await ann.post(
                f"/conversations/{dm}/messages",
                {"client_msg_id": uuid.uuid4().hex, "text": "Sign the contract today"},
            ),
            201,
        )
        # Email within the recall window (two minutes), so the message can go after it.
        ladder = {
            "email_after_s": 60,
            "gateway_after_s": 600,
            "email_enabled": True,
            "gateway_enabled": True,
        }
        expect(await ann.put(f"/orgs/{org}/ding-settings", ladder), 200)
        await ding(ann, org, bob, text="Please!", message_id=message["id"])
        clock.move_to(start + timedelta(seconds=60))
        assert await run_pass(app) == 1
        expect(await ann.post(f"/messages/{message['id']}/recall"), 200)
        clock.move_to(start + timedelta(seconds=600))
        assert await run_pass(app) == 1
    ((_, mail),) = mailbox.messages()
    assert "Please!" in mail.get_content() and "Sign the contract today" in mail.get_content()
    (call,) = gateway.recorded()
    assert call.body["text"] == "Please!"


async def test_user_text_cannot_inject_mail_headers(
    app: Any, http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        evil = "Ann\r\nBcc: mallory@example.com\r\nX-Evil: 1"
        signed_up = expect(
            await http.post(
                "/auth/register",
                json={
                    "email": f"m-{uuid.uuid4().hex[:8]}@example.com",
                    "password": "correct horse battery",
                    "display_name": evil,
                },
            ),
            201,
        )
        assert signed_up["user"]["display_name"] == evil
        mallory = Member(signed_up["user"]["id"], "", signed_up["token"], "Mallory", http)
        code = expect(await ann.post(f"/orgs/{org}/invites", {}), 201)["code"]
        expect(await mallory.post(f"/invites/{code}/accept"), 200)
        await ding(mallory, org, bob, text="hi\r\nBcc: eve@example.com")
        clock.move_to(start + EMAIL_AFTER)
        assert await run_pass(app) == 1
    ((rcpt, mail),) = mailbox.messages()
    assert rcpt == [bob.email]
    assert mail["Bcc"] is None and mail["X-Evil"] is None
    assert "\n" not in mail["Subject"] and "\r" not in mail["Subject"]


@pytest.mark.parametrize("failures", [1, 4])
async def test_a_failing_gateway_is_tried_again_then_passed_over(
    app: Any, http: httpx.AsyncClient, gateway: Gateway, failures: int
) -> None:
    gateway.status = 503
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        sent = await ding(ann, org, bob)
        clock.move_to(start + EMAIL_AFTER)
        assert await run_pass(app) == 1
        moment = start + GATEWAY_AFTER
        for attempt in range(failures):
            clock.move_to(moment)
            assert await run_pass(app) == 1
            assert len(gateway.recorded()) == attempt + 1
            view = entry(expect(await ann.get(f"/dings/{sent['id']}"), 200), bob.id)
            if attempt < 3:
                assert (view["last_step"], view["next_step"]) == ("email", "gateway")
                moment = datetime.fromisoformat(view["next_step_at"])
                assert moment > utcnow()
            else:
                assert (view["last_step"], view["next_step"]) == ("email", None)
        gateway.status = 200
        clock.move_to(moment)
        assert await run_pass(app) == (1 if failures < 4 else 0)
    view = entry(expect(await ann.get(f"/dings/{sent['id']}"), 200), bob.id)
    assert view["last_step"] == ("gateway" if failures < 4 else "email")
    async with app.state.node.db.read() as session:
        outcomes = list(
            (await session.execute(select(DingStep.outcome).order_by(DingStep.id))).scalars()
        )
    assert outcomes == ["sent"] + ["failed"] * failures + (["sent"] if failures < 4 else [])


async def test_steps_the_server_cannot_send_are_passed_over(
    app: Any, http: httpx.AsyncClient, gateway: Gateway, settings_overrides: dict[str, Any]
) -> None:
    # A team that switched email off: the gateway comes at its own time.
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        body = {
            "email_after_s": 300,
            "gateway_after_s": 900,
            "email_enabled": False,
            "gateway_enabled": True,
        }
        expect(await ann.put(f"/orgs/{org}/ding-settings", body), 200)
        sent = await ding(ann, org, bob)
        assert entry(sent, bob.id)["next_step"] == "gateway"
        clock.move_to(start + EMAIL_AFTER)
        assert await run_pass(app) == 0
        clock.move_to(start + GATEWAY_AFTER)
        assert await run_pass(app) == 1
    assert len(gateway.recorded()) == 1


async def test_a_recipient_who_left_the_team_gets_no_more_steps(
    app: Any, http: httpx.AsyncClient, mailbox: Mailbox, gateway: Gateway
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        await ding(ann, org, bob)
        expect(await bob.delete(f"/orgs/{org}/members/{bob.id}"), 204)
        clock.move_to(start + timedelta(days=1))
        assert await run_pass(app) == 1
        assert await run_pass(app) == 0
    assert mailbox.messages() == [] and gateway.recorded() == []


async def test_the_hourly_limit_frees_up_as_the_hour_passes(
    http: httpx.AsyncClient, settings_overrides: dict[str, Any]
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        for _ in range(30):
            await ding(ann, org, bob)
        clock.move_to(start + timedelta(minutes=59))
        limited = await ann.post(
            f"/orgs/{org}/dings",
            {"client_ding_id": "late", "recipient_ids": [bob.id], "text": "x"},
        )
        assert expect(limited, 429)["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 61
        clock.move_to(start + timedelta(minutes=60, seconds=1))
        await ding(ann, org, bob)


async def test_a_node_that_dies_after_claiming_leaves_the_step_to_another_after_its_lease(
    app: Any, http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """At least once: the claim outlives its node only until the lease runs out."""
    node = app.state.node
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        await ding(ann, org, bob)
        clock.move_to(start + EMAIL_AFTER)
        dead = DingEscalation(node.db, node.settings, DingDelivery(node.settings))
        (claim,) = await dead.claim_due(utcnow())  # ... and the node dies before sending
        assert await run_pass(app) == 0  # leased: nobody else sends it
        clock.move_to(start + EMAIL_AFTER + timedelta(seconds=node.settings.ding_lease_s + 1))
        assert await run_pass(app) == 1
        assert len(mailbox.messages()) == 1
        # Were the dead node to come back and record, its lease is gone: nothing changes.
        await dead.record(claim, "sent", "late")
        clock.move_to(start + GATEWAY_AFTER - timedelta(seconds=1))
        assert await run_pass(app) == 0
    assert len(mailbox.messages()) == 1


async def test_two_escalators_on_one_database_send_each_step_once(
    app: Any, http: httpx.AsyncClient, mailbox: Mailbox, gateway: Gateway
) -> None:
    """Two nodes' escalators, each with its own connection pool, draining the due steps in
    small batches at the same moment."""
    node = app.state.node
    databases = [Database(node.db.url) for _ in range(2)]
    for database in databases:
        database.set_event_sink(EventLog(node.broker))
    escalators = [
        DingEscalation(database, node.settings, DingDelivery(node.settings), batch=3)
        for database in databases
    ]

    async def drain(escalator: DingEscalation) -> int:
        handled = 0
        while found := await escalator.run_once():
            handled += found
        return handled

    try:
        start = utcnow()
        with time_machine.travel(start, tick=False) as clock:
            org, people = await team(http, "Ann", *(f"P{i}" for i in range(8)))
            ann, recipients = people[0], people[1:]
            for _ in range(3):
                await ding(ann, org, *recipients)
            for moment in (EMAIL_AFTER, GATEWAY_AFTER):
                clock.move_to(start + moment)
                counts = await asyncio.gather(*(drain(e) for e in escalators + escalators))
                assert sum(counts) == 3 * len(recipients)
    finally:
        for database in databases:
            await database.dispose()
    async with node.db.read() as session:
        outcomes = list((await session.execute(select(DingStep.outcome))).scalars())
    assert outcomes == ["sent"] * 2 * 3 * len(recipients)
    mailed = sorted(rcpt[0] for rcpt, _ in mailbox.messages())
    assert mailed == sorted(p.email for p in recipients for _ in range(3))
    called = sorted((c.body["ding_id"], c.body["user_id"]) for c in gateway.recorded())
    assert len(called) == len(set(called)) == 3 * len(recipients)
