"""Approvals routed through a real org chart: heads N levels up, job titles, conditions,
all/any steps, rejection, withdrawal, resubmission, and template versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from knock.testing import Member, expect, team


@dataclass
class Company:
    """Three levels: Company (CEO Cora) > Engineering (VP Vic) > Backend (lead Lee).
    Sam works in Backend; Hana holds the `hr` title; Ann owns the team."""

    org_id: str
    ann: Member
    cora: Member
    vic: Member
    lee: Member
    sam: Member
    hana: Member
    outsider: Member  # in the team, in no flow


async def company(http: httpx.AsyncClient) -> Company:
    org_id, people = await team(http, "Ann", "Cora", "Vic", "Lee", "Sam", "Hana", "Otto")
    ann, cora, vic, lee, sam, hana, otto = people
    top = await department(ann, org_id, "Company", None, cora)
    engineering = await department(ann, org_id, "Engineering", top, vic)
    backend = await department(ann, org_id, "Backend", engineering, lee)
    for person, where in ((cora, top), (vic, engineering), (lee, backend), (sam, backend)):
        body = {"department_id": where}
        expect(await ann.put(f"/orgs/{org_id}/members/{person.id}", body), 200)
    body = {"titles": ["hr"]}
    assert expect(await ann.put(f"/orgs/{org_id}/members/{hana.id}", body), 200)["titles"] == ["hr"]
    return Company(org_id, ann, cora, vic, lee, sam, hana, otto)


async def department(
    admin: Member, org_id: str, name: str, parent: str | None, head: Member
) -> str:
    body = {"name": name, "parent_id": parent}
    created = expect(await admin.post(f"/orgs/{org_id}/departments", body), 201)
    updated = expect(
        await admin.put(f"/orgs/{org_id}/departments/{created['id']}", {"head_id": head.id}), 200
    )
    assert updated["head_id"] == head.id
    return str(created["id"])


async def builtin(member: Member, org_id: str, kind: str) -> dict[str, Any]:
    listed = expect(await member.get(f"/orgs/{org_id}/approval-templates"), 200)["items"]
    found: dict[str, Any] = next(t for t in listed if t["builtin"] == kind)
    return found


async def submit(
    member: Member, org_id: str, template_id: str, values: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    body = {
        "template_id": template_id,
        "client_request_id": uuid.uuid4().hex,
        "values": values,
        **extra,
    }
    result: dict[str, Any] = expect(await member.post(f"/orgs/{org_id}/approvals", body), 201)
    return result


def leave(start: str, end: str) -> dict[str, Any]:
    return {"type": "Annual", "dates": {"from": start, "to": end}, "reason": "Family visit"}


def approvers(approval: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [
        (s["name"], s["status"], [a["user_id"] for a in s["approvers"]]) for s in approval["steps"]
    ]


async def inbox(member: Member, org_id: str, box: str) -> list[str]:
    page = expect(await member.get(f"/orgs/{org_id}/approvals?box={box}"), 200)
    return [a["id"] for a in page["items"]]


async def test_a_five_day_leave_goes_through_two_heads_and_hr(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.sam, c.org_id, "leave")
    # Monday to Friday: five working days, over three, so the second head is asked too.
    approval = await submit(c.sam, c.org_id, template["id"], leave("2026-12-07", "2026-12-11"))
    assert approval["computed"] == {"working_days": 5}
    assert approval["status"] == "pending"
    assert approvers(approval) == [
        ("Department head", "pending", [c.lee.id]),
        ("Second-level head", "waiting", [c.vic.id]),
        ("HR", "waiting", [c.hana.id]),
    ]
    assert await inbox(c.lee, c.org_id, "to_approve") == [approval["id"]]
    assert await inbox(c.vic, c.org_id, "to_approve") == []
    assert await inbox(c.sam, c.org_id, "submitted") == [approval["id"]]

    # Not their turn yet: seen (they are in the flow) but refused.
    refused = await c.vic.post(f"/approvals/{approval['id']}/approve", {})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_your_turn")

    for approver, step in ((c.lee, 0), (c.vic, 1), (c.hana, 2)):
        answer = expect(
            await approver.post(f"/approvals/{approval['id']}/approve", {"comment": "ok"}), 200
        )
        assert answer["steps"][step]["status"] == "approved"
        assert await inbox(approver, c.org_id, "to_approve") == []
    assert answer["status"] == "approved"
    assert answer["current_step"] is None
    assert answer["decided_at"] is not None
    again = await c.hana.post(f"/approvals/{approval['id']}/approve", {})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "approval_closed")

    trail = expect(await c.sam.get(f"/approvals/{approval['id']}/audit"), 200)["items"]
    assert [(e["action"], e["actor_id"], e["step"]) for e in trail] == [
        ("submitted", c.sam.id, None),
        ("approved", c.lee.id, 0),
        ("approved", c.vic.id, 1),
        ("approved", c.hana.id, 2),
        ("completed", None, None),
    ]


async def test_a_short_leave_skips_the_second_head(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.sam, c.org_id, "leave")
    # Friday to Monday: two working days.
    approval = await submit(c.sam, c.org_id, template["id"], leave("2026-12-11", "2026-12-14"))
    assert approval["computed"] == {"working_days": 2}
    assert [s["status"] for s in approval["steps"]] == ["pending", "skipped", "waiting"]
    expect(await c.lee.post(f"/approvals/{approval['id']}/approve", {}), 200)
    assert await inbox(c.hana, c.org_id, "to_approve") == [approval["id"]]


async def test_a_head_asking_goes_to_the_head_above(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.lee, c.org_id, "leave")
    approval = await submit(c.lee, c.org_id, template["id"], leave("2026-12-07", "2026-12-11"))
    assert approvers(approval)[:2] == [
        ("Department head", "pending", [c.vic.id]),
        ("Second-level head", "waiting", [c.cora.id]),
    ]


async def test_no_head_falls_back_to_the_admins(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.outsider, c.org_id, "leave")
    # Otto is in no department: no head at any level, so the admins stand in.
    approval = await submit(c.outsider, c.org_id, template["id"], leave("2026-12-07", "2026-12-08"))
    first = approval["steps"][0]
    assert (first["fallback"], [a["user_id"] for a in first["approvers"]]) == (True, [c.ann.id])
    assert await inbox(c.ann, c.org_id, "to_approve") == [approval["id"]]


async def test_a_rejection_at_step_two_ends_it(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.sam, c.org_id, "leave")
    approval = await submit(c.sam, c.org_id, template["id"], leave("2026-12-07", "2026-12-11"))
    expect(await c.lee.post(f"/approvals/{approval['id']}/approve", {}), 200)
    no_comment = await c.vic.post(f"/approvals/{approval['id']}/reject", {"comment": " "})
    assert no_comment.status_code == 422
    rejected = expect(
        await c.vic.post(f"/approvals/{approval['id']}/reject", {"comment": "Release week"}), 200
    )
    assert rejected["status"] == "rejected"
    assert [s["status"] for s in rejected["steps"]] == ["approved", "rejected", "cancelled"]
    assert rejected["steps"][1]["approvers"][0]["comment"] == "Release week"
    assert await inbox(c.hana, c.org_id, "to_approve") == []
    late = await c.hana.post(f"/approvals/{approval['id']}/approve", {})
    # HR was resolved at submission, so sees it, but it is over.
    assert (late.status_code, late.json()["error"]["code"]) == (409, "approval_closed")
    closed = await c.sam.post(f"/approvals/{approval['id']}/withdraw")
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "approval_closed")

    # Resubmitted: a new round of the same approval, routed afresh.
    values = leave("2026-12-14", "2026-12-15")
    again = expect(
        await c.sam.post(f"/approvals/{approval['id']}/resubmit", {"values": values}), 200
    )
    assert (again["id"], again["round"], again["status"]) == (approval["id"], 2, "pending")
    assert again["computed"] == {"working_days": 2}
    assert [s["status"] for s in again["steps"]] == ["pending", "skipped", "waiting"]
    trail = expect(await c.sam.get(f"/approvals/{approval['id']}/audit"), 200)["items"]
    assert [(e["action"], e["round"]) for e in trail] == [
        ("submitted", 1),
        ("approved", 1),
        ("rejected", 1),
        ("resubmitted", 2),
    ]
    assert trail[2]["comment"] == "Release week"


async def test_withdraw_before_the_first_decision_only(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.sam, c.org_id, "leave")
    first = await submit(c.sam, c.org_id, template["id"], leave("2026-12-07", "2026-12-08"))
    not_mine = await c.lee.post(f"/approvals/{first['id']}/withdraw")
    assert not_mine.status_code == 403
    withdrawn = expect(await c.sam.post(f"/approvals/{first['id']}/withdraw"), 200)
    assert withdrawn["status"] == "withdrawn"
    assert [s["status"] for s in withdrawn["steps"]] == ["cancelled", "skipped", "cancelled"]
    assert await inbox(c.lee, c.org_id, "to_approve") == []
    too_late = await c.lee.post(f"/approvals/{first['id']}/approve", {})
    assert too_late.status_code == 409

    second = await submit(c.sam, c.org_id, template["id"], leave("2026-12-07", "2026-12-08"))
    expect(await c.lee.post(f"/approvals/{second['id']}/approve", {}), 200)
    refused = await c.sam.post(f"/approvals/{second['id']}/withdraw")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "approval_in_progress")
    pending = await c.sam.post(f"/approvals/{second['id']}/resubmit", {})
    assert (pending.status_code, pending.json()["error"]["code"]) == (409, "approval_not_closed")


async def test_a_template_edit_does_not_change_an_old_submission(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.ann, c.org_id, "general")
    old = await submit(
        c.sam, c.org_id, template["id"], {"title": "Laptop", "details": "Mine broke"}
    )
    assert (old["template_version"], old["template_name"]) == (1, "General request")

    edited = {
        "name": "IT request",
        "fields": [
            {"key": "what", "label": "What do you need", "type": "text", "required": True},
            {"key": "cost", "label": "Cost", "type": "money", "required": True, "min": 0},
        ],
        "flow": {"steps": [{"name": "IT", "approvers": {"kind": "users", "user_ids": [c.vic.id]}}]},
    }
    member_edit = await c.sam.put(f"/approval-templates/{template['id']}", edited)
    assert member_edit.status_code == 403
    saved = expect(await c.ann.put(f"/approval-templates/{template['id']}", edited), 200)
    assert (saved["version"], saved["name"], saved["builtin"]) == (2, "IT request", "general")

    # The old approval still shows (and routes by) version 1.
    still = expect(await c.sam.get(f"/approvals/{old['id']}"), 200)
    assert (still["template_version"], still["template_name"]) == (1, "General request")
    assert [f["key"] for f in still["fields"]] == ["title", "details", "attachments"]
    assert still["values"] == {"title": "Laptop", "details": "Mine broke"}
    assert approvers(still) == [("Department head", "pending", [c.lee.id])]
    v1 = expect(await c.sam.get(f"/approval-templates/{template['id']}?version=1"), 200)
    assert v1["name"] == "General request"

    # New submissions use version 2 and its validation.
    bad = await c.sam.post(
        f"/orgs/{c.org_id}/approvals",
        {"template_id": template["id"], "client_request_id": "x1", "values": {"what": "Desk"}},
    )
    assert (bad.status_code, bad.json()["error"]["message"]) == (
        422,
        "values.cost: Cost is required.",
    )
    new = await submit(c.sam, c.org_id, template["id"], {"what": "Desk", "cost": "120.5"})
    assert (new["template_version"], new["values"]) == (2, {"what": "Desk", "cost": "120.50"})
    assert approvers(new) == [("IT", "pending", [c.vic.id])]


async def test_all_and_any_modes_and_cc(http: httpx.AsyncClient) -> None:
    c = await company(http)
    body = {
        "name": "Purchase",
        "fields": [{"key": "amount", "label": "Amount", "type": "money", "required": True}],
        "flow": {
            "steps": [
                {
                    "name": "Both leads",
                    "mode": "all",
                    "approvers": {"kind": "users", "user_ids": [c.lee.id, c.vic.id]},
                },
                {
                    "name": "Any head",
                    "mode": "any",
                    "approvers": {"kind": "users", "user_ids": [c.cora.id, c.ann.id]},
                },
                {
                    "name": "Big ones",
                    "approvers": {"kind": "role", "role": "hr"},
                    "condition": {"field": "amount", "op": ">=", "value": 1000},
                },
            ],
            "cc": [{"kind": "role", "role": "hr"}, {"kind": "dept_head", "levels": 1}],
        },
    }
    template = expect(await c.ann.post(f"/orgs/{c.org_id}/approval-templates", body), 201)
    small = await submit(c.sam, c.org_id, template["id"], {"amount": 50})
    assert sorted(small["cc_ids"]) == sorted([c.hana.id, c.lee.id])
    assert await inbox(c.hana, c.org_id, "cc") == [small["id"]]
    # Copied people see it, and only in the cc box.
    expect(await c.hana.get(f"/approvals/{small['id']}"), 200)
    assert await inbox(c.hana, c.org_id, "to_approve") == []

    after_one = expect(await c.lee.post(f"/approvals/{small['id']}/approve", {}), 200)
    assert after_one["current_step"] == 0  # "all": Vic still has to approve
    after_two = expect(await c.vic.post(f"/approvals/{small['id']}/approve", {}), 200)
    assert after_two["current_step"] == 1
    done = expect(await c.ann.post(f"/approvals/{small['id']}/approve", {}), 200)
    assert done["status"] == "approved"  # "any": one of two; the big-amount step skipped
    assert [s["status"] for s in done["steps"]] == ["approved", "approved", "skipped"]
    cora_late = await c.cora.post(f"/approvals/{small['id']}/approve", {})
    assert cora_late.status_code == 409

    big = await submit(c.sam, c.org_id, template["id"], {"amount": "1000"})
    assert [s["status"] for s in big["steps"]] == ["pending", "waiting", "waiting"]
    for approver in (c.lee, c.vic, c.cora):
        expect(await approver.post(f"/approvals/{big['id']}/approve", {}), 200)
    late = await c.ann.post(f"/approvals/{big['id']}/approve", {})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "already_decided")
    assert await inbox(c.hana, c.org_id, "to_approve") == [big["id"]]


async def test_admins_stand_in_for_approvers_who_left(http: httpx.AsyncClient) -> None:
    c = await company(http)
    template = await builtin(c.sam, c.org_id, "leave")
    approval = await submit(c.sam, c.org_id, template["id"], leave("2026-12-07", "2026-12-11"))
    # While Lee is in the team, it is his call, not the admins'.
    early = await c.ann.post(f"/approvals/{approval['id']}/approve", {})
    assert (early.status_code, early.json()["error"]["code"]) == (403, "not_your_turn")
    expect(await c.ann.delete(f"/orgs/{c.org_id}/members/{c.lee.id}"), 204)
    assert (await c.outsider.post(f"/approvals/{approval['id']}/approve", {})).status_code == 404
    stood_in = expect(await c.ann.post(f"/approvals/{approval['id']}/approve", {}), 200)
    first = stood_in["steps"][0]
    assert (first["status"], first["fallback"]) == ("approved", True)
    assert [(a["user_id"], a["decision"]) for a in first["approvers"]] == [
        (c.ann.id, "approved"),
        (c.lee.id, None),
    ]
    assert stood_in["current_step"] == 1


async def test_all_waits_only_for_approvers_still_in_the_team(http: httpx.AsyncClient) -> None:
    c = await company(http)
    body = {
        "name": "Both",
        "fields": [{"key": "what", "label": "What", "type": "text", "required": True}],
        "flow": {
            "steps": [
                {
                    "name": "Both",
                    "mode": "all",
                    "approvers": {"kind": "users", "user_ids": [c.lee.id, c.vic.id]},
                }
            ]
        },
    }
    template = expect(await c.ann.post(f"/orgs/{c.org_id}/approval-templates", body), 201)
    approval = await submit(c.sam, c.org_id, template["id"], {"what": "Desk"})
    expect(await c.ann.delete(f"/orgs/{c.org_id}/members/{c.vic.id}"), 204)
    done = expect(await c.lee.post(f"/approvals/{approval['id']}/approve", {}), 200)
    assert done["status"] == "approved"
