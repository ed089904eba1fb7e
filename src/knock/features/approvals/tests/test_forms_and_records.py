"""Form validation and limits, idempotent submission, the audit trail and the CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from knock.features.approvals.audit import verify_chain
from knock.features.approvals.export import safe_cell
from knock.features.approvals.forms import working_days
from knock.features.approvals.models import ApprovalAudit
from knock.features.approvals.tests.test_flows import submit
from knock.testing import Member, expect, team

FORM = {
    "name": "Everything",
    "fields": [
        {"key": "title", "label": "Title", "type": "text", "required": True, "max": 20},
        {"key": "notes", "label": "Notes", "type": "long_text"},
        {"key": "count", "label": "Count", "type": "number", "min": 1, "max": 10},
        {"key": "price", "label": "Price", "type": "money"},
        {"key": "day", "label": "Day", "type": "date"},
        {"key": "trip", "label": "Trip", "type": "date_range"},
        {"key": "size", "label": "Size", "type": "single_select", "options": ["S", "M"]},
        {"key": "tags", "label": "Tags", "type": "multi_select", "options": ["a", "b"]},
        {"key": "buddy", "label": "Buddy", "type": "employee"},
        {"key": "files", "label": "Files", "type": "attachment"},
        {"key": "items", "label": "Items", "type": "line_items"},
    ],
    "flow": {"steps": [{"name": "Boss", "approvers": {"kind": "dept_head"}}]},
}


async def everything(http: httpx.AsyncClient) -> tuple[str, list[Member], str]:
    org_id, people = await team(http, "Ann", "Bob")
    template = expect(await people[0].post(f"/orgs/{org_id}/approval-templates", FORM), 201)
    return org_id, people, str(template["id"])


async def test_every_field_type_is_checked_and_normalized(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob), template_id = await everything(http)
    values = {
        "title": "  Offsite ",
        "count": 3,
        "price": 12.5,
        "day": "2026-12-24",
        "trip": {"from": "2026-12-28", "to": "2027-01-08"},
        "size": "M",
        "tags": ["b", "a", "b"],
        "buddy": [ann.id],
        "items": [
            {"description": "Train", "amount": "80.10"},
            {"description": "Hotel", "amount": 120},
        ],
    }
    approval = await submit(bob, org_id, template_id, values)
    assert approval["values"] == {
        "title": "Offsite",
        "count": 3.0,
        "price": "12.50",
        "day": "2026-12-24",
        "trip": {"from": "2026-12-28", "to": "2027-01-08"},
        "size": "M",
        "tags": ["b", "a"],
        "buddy": [ann.id],
        "items": [
            {"description": "Train", "amount": "80.10"},
            {"description": "Hotel", "amount": "120.00"},
        ],
    }
    assert approval["computed"] == {"working_days": 10, "total": "200.10"}


BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    ({}, "values.title"),
    ({"title": ""}, "values.title"),
    ({"title": "x" * 21}, "values.title"),
    ({"title": "ok", "surprise": 1}, "values.surprise"),
    ({"title": "ok", "count": 11}, "values.count"),
    ({"title": "ok", "count": "many"}, "values.count"),
    ({"title": "ok", "count": True}, "values.count"),
    ({"title": "ok", "count": 10**30}, "values.count"),
    ({"title": "ok", "price": "1.001"}, "values.price"),
    ({"title": "ok", "day": "24.12.2026"}, "values.day"),
    ({"title": "ok", "day": "2026-02-30"}, "values.day"),
    ({"title": "ok", "trip": {"from": "2026-12-28", "to": "2026-12-01"}}, "values.trip"),
    ({"title": "ok", "trip": {"from": "2026-01-01", "to": "2027-06-01"}}, "values.trip"),
    ({"title": "ok", "trip": "2026-12-28"}, "values.trip"),
    ({"title": "ok", "size": "XL"}, "values.size"),
    ({"title": "ok", "tags": ["c"]}, "values.tags"),
    ({"title": "ok", "buddy": ["nobody"]}, "values.buddy"),
    ({"title": "ok", "buddy": ["a", "b"]}, "values.buddy"),
    ({"title": "ok", "items": [{"description": "x", "amount": -1}]}, "values.items[0]"),
    ({"title": "ok", "items": [{"what": "x"}]}, "values.items[0]"),
    ({"title": "ok", "files": "not a list"}, "values.files"),
]


async def test_bad_values_answer_422_naming_the_field(http: httpx.AsyncClient) -> None:
    org_id, (_, bob), template_id = await everything(http)
    for values, field in BAD_VALUES:
        body = {"template_id": template_id, "client_request_id": "r1", "values": values}
        answer = await bob.post(f"/orgs/{org_id}/approvals", body)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid_request"
        assert error["message"].startswith(field), error["message"]
    inbox = expect(await bob.get(f"/orgs/{org_id}/approvals?box=submitted"), 200)
    assert inbox["items"] == []  # nothing half-written


BAD_TEMPLATES: list[tuple[Any, str]] = [
    (lambda t: t["fields"].append(dict(t["fields"][0])), "used twice"),
    (lambda t: t["fields"].append({"key": "total", "label": "T", "type": "number"}), "reserved"),
    (lambda t: t["fields"][6].update(options=[]), "options"),
    (lambda t: t["fields"][2].update(min=5, max=1), "min is above max"),
    (
        lambda t: t["fields"].extend(
            [{"key": f"f{i}", "label": "F", "type": "text"} for i in range(40)]
        ),
        "fields",
    ),
    (
        lambda t: t["flow"]["steps"][0].update(condition={"field": "nope", "op": ">", "value": 1}),
        "condition.field",
    ),
    (
        lambda t: t["flow"]["steps"][0].update(
            condition={"field": "size", "op": "in", "value": "S"}
        ),
        "condition.value",
    ),
    (lambda t: t["flow"].update(steps=t["flow"]["steps"] * 11), "flow.steps"),
    (lambda t: t["flow"].update(steps=[]), "flow.steps"),
    (lambda t: t["flow"]["steps"][0].update(approvers={"kind": "users"}), "flow.steps"),
    (lambda t: t["flow"]["steps"][0].update(approvers={"kind": "role"}), "flow.steps"),
    (
        lambda t: t["flow"]["steps"][0].update(approvers={"kind": "dept_head", "levels": 11}),
        "levels",
    ),
    (lambda t: t["fields"][0].update(key="Bad Key"), "fields.0.key"),
    (lambda t: t.update(name=""), "name"),
]


async def test_bad_templates_answer_422(http: httpx.AsyncClient) -> None:
    org_id, (ann, _), _ = await everything(http)
    for change, fragment in BAD_TEMPLATES:
        body = orjson.loads(orjson.dumps(FORM))
        change(body)
        answer = await ann.post(f"/orgs/{org_id}/approval-templates", body)
        assert answer.status_code == 422, (fragment, answer.text)
        assert fragment in answer.json()["error"]["message"], answer.json()
    listed = expect(await ann.get(f"/orgs/{org_id}/approval-templates"), 200)["items"]
    assert len(listed) == 4  # the three built in and the one made at the start


async def test_members_cannot_manage_templates_and_archived_ones_take_nothing(
    http: httpx.AsyncClient,
) -> None:
    org_id, (ann, bob), template_id = await everything(http)
    assert (await bob.post(f"/orgs/{org_id}/approval-templates", FORM)).status_code == 403
    assert (await bob.delete(f"/approval-templates/{template_id}")).status_code == 403
    submitted = await submit(bob, org_id, template_id, {"title": "Before"})
    expect(await ann.delete(f"/approval-templates/{template_id}"), 204)
    expect(await ann.delete(f"/approval-templates/{template_id}"), 204)
    listed = expect(await bob.get(f"/orgs/{org_id}/approval-templates"), 200)["items"]
    assert template_id not in [t["id"] for t in listed]
    assert sorted(t["builtin"] for t in listed) == ["expense", "general", "leave"]
    everything_listed = expect(
        await ann.get(f"/orgs/{org_id}/approval-templates?include_archived=true"), 200
    )["items"]
    assert [t["archived"] for t in everything_listed if t["id"] == template_id] == [True]
    body = {"template_id": template_id, "client_request_id": "late", "values": {"title": "x"}}
    late = await bob.post(f"/orgs/{org_id}/approvals", body)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "template_archived")
    # The approval submitted before goes on.
    expect(await ann.post(f"/approvals/{submitted['id']}/approve", {}), 200)


async def test_submission_is_idempotent_per_client_request_id(http: httpx.AsyncClient) -> None:
    org_id, (_, bob), template_id = await everything(http)
    body = {"template_id": template_id, "client_request_id": "once", "values": {"title": "A"}}
    first = expect(await bob.post(f"/orgs/{org_id}/approvals", body), 201)
    again = expect(await bob.post(f"/orgs/{org_id}/approvals", body), 200)
    assert again == first
    other = {**body, "values": {"title": "B"}}
    reused = await bob.post(f"/orgs/{org_id}/approvals", other)
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "client_request_id_reused")
    inbox = expect(await bob.get(f"/orgs/{org_id}/approvals?box=submitted"), 200)
    assert [a["id"] for a in inbox["items"]] == [first["id"]]


async def test_the_audit_trail_is_append_only_and_chained(
    http: httpx.AsyncClient, app: Any
) -> None:
    org_id, (ann, bob), template_id = await everything(http)
    approval = await submit(bob, org_id, template_id, {"title": "A"})
    expect(
        await ann.post(f"/approvals/{approval['id']}/reject", {"comment": "=cmd|' /C calc'!A0"}),
        200,
    )
    expect(await bob.post(f"/approvals/{approval['id']}/resubmit", {}), 200)
    expect(await ann.post(f"/approvals/{approval['id']}/approve", {}), 200)
    path = f"/approvals/{approval['id']}/audit"
    first = expect(await bob.get(path, params={"limit": 2}), 200)
    rest = expect(await bob.get(path, params={"after": first["next_after"]}), 200)
    entries = first["items"] + rest["items"]
    assert [e["action"] for e in entries] == [
        "submitted",
        "rejected",
        "resubmitted",
        "approved",
        "completed",
    ]
    assert rest["next_after"] is None
    # No call changes it.
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        answer = await bob.http.request(method, f"/api/v1{path}", headers=bob.auth)
        assert answer.status_code == 405, (method, answer.status_code)
    async with app.state.node.db.read() as session:
        rows = list(
            (
                await session.execute(
                    select(ApprovalAudit)
                    .where(ApprovalAudit.approval_id == approval["id"])
                    .order_by(ApprovalAudit.seq)
                )
            ).scalars()
        )
    assert verify_chain(rows)
    assert [r.hash for r in rows] == [e["hash"] for e in entries]
    # An edit behind Knock's back breaks the chain.
    rows[1].comment = "fine"
    assert not verify_chain(rows)


async def test_csv_export_is_for_admins_and_defuses_formulas(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob), template_id = await everything(http)
    renamed = {**FORM, "name": '=HYPERLINK("http://evil")'}
    expect(await ann.put(f"/approval-templates/{template_id}", renamed), 200)
    approval = await submit(bob, org_id, template_id, {"title": "-2+3", "notes": "+1"})
    expect(await ann.post(f"/approvals/{approval['id']}/reject", {"comment": "@SUM(A1)"}), 200)
    refused = await bob.get(f"/orgs/{org_id}/approvals.csv")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    answer = await ann.get(f"/orgs/{org_id}/approvals.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["id"], row["status"], row["template_version"]) == (approval["id"], "rejected", "2")
    assert row["template"] == '\'=HYPERLINK("http://evil")'
    assert row["values"] == "Title: -2+3; Notes: +1"
    assert row["decisions"] == "Ann: rejected (@SUM(A1))"
    # Every cell: nothing a spreadsheet would run.
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@")), value
    empty = await ann.get(
        f"/orgs/{org_id}/approvals.csv", params={"from": "2020-01-01", "to": "2020-01-31"}
    )
    assert empty.text.splitlines()[1:] == []
    too_long = await ann.get(
        f"/orgs/{org_id}/approvals.csv", params={"from": "2020-01-01", "to": "2022-01-01"}
    )
    assert too_long.status_code == 422
    backwards = await ann.get(
        f"/orgs/{org_id}/approvals.csv", params={"from": "2020-02-01", "to": "2020-01-01"}
    )
    assert backwards.status_code == 422


async def test_inbox_pages_and_filters(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob), template_id = await everything(http)
    made = [(await submit(bob, org_id, template_id, {"title": f"T{i}"}))["id"] for i in range(5)]
    expect(await ann.post(f"/approvals/{made[0]}/approve", {}), 200)
    seen: list[str] = []
    before = None
    while True:
        params: dict[str, Any] = {"box": "to_approve", "limit": 2}
        if before:
            params["before"] = before
        page = expect(await ann.get(f"/orgs/{org_id}/approvals", params=params), 200)
        seen += [a["id"] for a in page["items"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == list(reversed(made[1:]))
    approved = expect(
        await bob.get(
            f"/orgs/{org_id}/approvals", params={"box": "submitted", "status": "approved"}
        ),
        200,
    )
    assert [a["id"] for a in approved["items"]] == [made[0]]
    for bad in ({"box": "all"}, {"limit": 0}, {"limit": 101}, {"status": "lost"}):
        assert (await ann.get(f"/orgs/{org_id}/approvals", params=bad)).status_code == 422


def test_cells_that_spreadsheets_would_run_get_an_apostrophe() -> None:
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(risky) == "'" + risky
    assert (safe_cell("plain"), safe_cell(None), safe_cell(3)) == ("plain", "", "3")


def test_working_days_count_monday_to_friday() -> None:
    assert working_days(date(2026, 12, 7), date(2026, 12, 11)) == 5  # Mon-Fri
    assert working_days(date(2026, 12, 5), date(2026, 12, 6)) == 0  # a weekend
    assert working_days(date(2026, 12, 11), date(2026, 12, 14)) == 2  # Fri-Mon
    assert working_days(date(2026, 12, 1), date(2026, 12, 31)) == 23
    assert working_days(date(2026, 12, 9), date(2026, 12, 9)) == 1


async def test_values_over_the_size_limit_are_refused(http: httpx.AsyncClient) -> None:
    org_id, (_, bob), template_id = await everything(http)
    items = [{"description": "x" * 200, "amount": 1} for _ in range(50)]
    fits = {"title": "ok", "notes": "n" * 5000, "items": items}
    await submit(bob, org_id, template_id, fits)
    body = {
        "template_id": template_id,
        "client_request_id": uuid.uuid4().hex,
        "values": {"title": "ok", "items": items * 2},
    }
    too_many = await bob.post(f"/orgs/{org_id}/approvals", body)
    assert too_many.status_code == 422
