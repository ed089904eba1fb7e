"""Invites: creating (admins), previewing and accepting, expiry and the use counter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine

from knock.features.orgs.actions import OrgLimits
from knock.testing import create_org, expect, join_org, register

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found."}}


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_create_invite_with_defaults(http: httpx.AsyncClient) -> None:
    ann = await register(http)
    org_id = await create_org(ann)
    before = datetime.now(UTC)
    invite = expect(await ann.post(f"/orgs/{org_id}/invites", {}), 201)
    assert set(invite) == {"code", "org_id", "role", "max_uses", "uses", "expires_at"}
    assert (invite["org_id"], invite["role"], invite["max_uses"], invite["uses"]) == (
        org_id,
        "member",
        50,
        0,
    )
    assert len(invite["code"]) == 16
    expires = parse_time(invite["expires_at"])
    assert before + timedelta(days=7) <= expires <= datetime.now(UTC) + timedelta(days=7)
    other = expect(
        await ann.post(
            f"/orgs/{org_id}/invites", {"role": "admin", "max_uses": 1000, "expires_in_s": 60}
        ),
        201,
    )
    assert (other["role"], other["max_uses"]) == ("admin", 1000)
    assert other["code"] != invite["code"]


@pytest.mark.parametrize(
    "payload",
    [
        {"role": "owner"},
        {"role": "boss"},
        {"max_uses": 0},
        {"max_uses": 1001},
        {"expires_in_s": 59},
        {"expires_in_s": 30 * 24 * 3600 + 1},
        {"code": "mine"},
    ],
)
async def test_create_invite_refuses_bad_input(
    http: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    ann = await register(http)
    org_id = await create_org(ann)
    response = await ann.post(f"/orgs/{org_id}/invites", payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_only_admins_create_invites(http: httpx.AsyncClient) -> None:
    ann, adm, bob = [await register(http, n) for n in ("Ann", "Adm", "Bob")]
    org_id = await create_org(ann)
    await join_org(ann, org_id, adm, role="admin")
    await join_org(ann, org_id, bob)
    refused = await bob.post(f"/orgs/{org_id}/invites", {})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    expect(await adm.post(f"/orgs/{org_id}/invites", {"role": "admin"}), 201)


async def test_preview_and_accept(http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann, "Acme")
    invite = expect(await ann.post(f"/orgs/{org_id}/invites", {"role": "admin"}), 201)
    code = invite["code"]
    assert expect(await bob.get(f"/invites/{code}"), 200) == {
        "org_id": org_id,
        "org_name": "Acme",
        "role": "admin",
        "expires_at": invite["expires_at"],
    }
    # A preview needs a signed-in user, and a code that exists.
    assert (await http.get(f"/invites/{code}")).status_code == 401
    assert (await http.post(f"/invites/{code}/accept")).status_code == 401
    for bad in ("nope", "x" * 40):
        assert (await bob.get(f"/invites/{bad}")).json() == NOT_FOUND
        assert (await bob.post(f"/invites/{bad}/accept")).json() == NOT_FOUND

    accepted = expect(await bob.post(f"/invites/{code}/accept"), 200)
    org = expect(await bob.get(f"/orgs/{org_id}"), 200)
    assert accepted == {"org_id": org_id, "org": org, "role": "admin"}
    assert org["role"] == "admin"


async def test_accepting_again_uses_nothing(http: httpx.AsyncClient) -> None:
    ann, bob, cat = [await register(http, n) for n in ("Ann", "Bob", "Cat")]
    org_id = await create_org(ann)
    code = expect(await ann.post(f"/orgs/{org_id}/invites", {"max_uses": 2}), 201)["code"]
    first = expect(await bob.post(f"/invites/{code}/accept"), 200)
    assert expect(await bob.post(f"/invites/{code}/accept"), 200) == first
    # The owner accepting their own invite keeps their role and uses nothing either.
    assert expect(await ann.post(f"/invites/{code}/accept"), 200)["role"] == "owner"
    expect(await cat.post(f"/invites/{code}/accept"), 200)
    late = await register(http)
    assert (await late.post(f"/invites/{code}/accept")).json() == NOT_FOUND


async def test_expired_invites_are_gone(http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    week = expect(await ann.post(f"/orgs/{org_id}/invites", {}), 201)["code"]
    month = expect(
        await ann.post(f"/orgs/{org_id}/invites", {"expires_in_s": 30 * 24 * 3600}), 201
    )["code"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8), tick=True):
        for path in (f"/invites/{week}", f"/invites/{week}/accept"):
            response = await (bob.get(path) if "accept" not in path else bob.post(path))
            assert response.status_code == 404
            assert response.json() == NOT_FOUND
        expect(await bob.get(f"/invites/{month}"), 200)
        expect(await bob.post(f"/invites/{month}/accept"), 200)


async def test_concurrent_accepts_never_exceed_max_uses(http: httpx.AsyncClient) -> None:
    ann = await register(http)
    org_id = await create_org(ann)
    code = expect(await ann.post(f"/orgs/{org_id}/invites", {"max_uses": 3}), 201)["code"]
    people = [await register(http) for _ in range(8)]
    answers = await asyncio.gather(*(p.post(f"/invites/{code}/accept") for p in people))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 3 + [404] * 5
    members = expect(await ann.get(f"/orgs/{org_id}/members"), 200)["items"]
    joined = {p.id for p, r in zip(people, answers, strict=True) if r.status_code == 200}
    assert {m["user_id"] for m in members} == {ann.id, *joined}
    assert (await ann.get(f"/invites/{code}")).status_code == 404


async def test_one_person_accepting_twice_at_once_uses_one(http: httpx.AsyncClient) -> None:
    ann, bob, cat, dan = [await register(http, n) for n in ("Ann", "Bob", "Cat", "Dan")]
    org_id = await create_org(ann)
    code = expect(await ann.post(f"/orgs/{org_id}/invites", {"max_uses": 2}), 201)["code"]
    answers = await asyncio.gather(*(bob.post(f"/invites/{code}/accept") for _ in range(4)))
    assert [r.status_code for r in answers] == [200] * 4
    expect(await cat.post(f"/invites/{code}/accept"), 200)
    assert (await dan.post(f"/invites/{code}/accept")).status_code == 404


async def test_open_invites_per_org_are_bounded(app: Any, http: httpx.AsyncClient) -> None:
    app.state.node.orgs.limits = OrgLimits(live_invites_per_org=2)
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    single = expect(await ann.post(f"/orgs/{org_id}/invites", {"max_uses": 1}), 201)["code"]
    expect(await ann.post(f"/orgs/{org_id}/invites", {"expires_in_s": 60}), 201)
    refused = await ann.post(f"/orgs/{org_id}/invites", {})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invite_limit_reached"
    # Used-up and expired invites no longer count.
    expect(await bob.post(f"/invites/{single}/accept"), 200)
    expect(await ann.post(f"/orgs/{org_id}/invites", {}), 201)
    assert (await ann.post(f"/orgs/{org_id}/invites", {})).status_code == 409
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=True):
        expect(await ann.post(f"/orgs/{org_id}/invites", {}), 201)


async def test_members_per_org_are_bounded(app: Any, http: httpx.AsyncClient) -> None:
    app.state.node.orgs.limits = OrgLimits(members_per_org=2)
    ann, bob, cat = [await register(http, n) for n in ("Ann", "Bob", "Cat")]
    org_id = await create_org(ann)
    code = expect(await ann.post(f"/orgs/{org_id}/invites", {"max_uses": 2}), 201)["code"]
    expect(await bob.post(f"/invites/{code}/accept"), 200)
    refused = await cat.post(f"/invites/{code}/accept")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "member_limit_reached"
    # The refusal rolled back its use: once there is room, the code still works.
    expect(await bob.delete(f"/orgs/{org_id}/members/{bob.id}"), 204)
    expect(await cat.post(f"/invites/{code}/accept"), 200)
