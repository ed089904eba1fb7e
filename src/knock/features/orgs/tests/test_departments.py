"""Departments: a bounded tree per org, created by admins, listed flat to members."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from knock.features.orgs.actions import OrgLimits
from knock.testing import create_org, expect, join_org, register


async def test_create_and_list_a_department_tree(http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    await join_org(ann, org_id, bob)
    assert expect(await bob.get(f"/orgs/{org_id}/departments"), 200) == {"items": []}
    sales = expect(await ann.post(f"/orgs/{org_id}/departments", {"name": " Sales "}), 201)
    assert set(sales) == {"id", "org_id", "name", "parent_id", "head_id"}
    assert (sales["org_id"], sales["name"], sales["parent_id"]) == (org_id, "Sales", None)
    north = expect(
        await ann.post(f"/orgs/{org_id}/departments", {"name": "North", "parent_id": sales["id"]}),
        201,
    )
    assert north["parent_id"] == sales["id"]
    south = expect(
        await ann.post(f"/orgs/{org_id}/departments", {"name": "South", "parent_id": sales["id"]}),
        201,
    )
    listed = expect(await bob.get(f"/orgs/{org_id}/departments"), 200)
    assert listed == {"items": [sales, north, south]}


async def test_only_admins_create_departments(http: httpx.AsyncClient) -> None:
    ann, adm, bob = [await register(http, n) for n in ("Ann", "Adm", "Bob")]
    org_id = await create_org(ann)
    await join_org(ann, org_id, adm, role="admin")
    await join_org(ann, org_id, bob)
    refused = await bob.post(f"/orgs/{org_id}/departments", {"name": "Mine"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    expect(await adm.post(f"/orgs/{org_id}/departments", {"name": "Ops"}), 201)


async def test_parent_must_be_in_the_same_org(http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    other = await create_org(bob, "Other")
    foreign = expect(await bob.post(f"/orgs/{other}/departments", {"name": "Theirs"}), 201)
    for parent in (foreign["id"], "0" * 26):
        refused = await ann.post(
            f"/orgs/{org_id}/departments", {"name": "Mine", "parent_id": parent}
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "invalid_request"
        assert "parent_id" in refused.json()["error"]["message"]
    assert expect(await ann.get(f"/orgs/{org_id}/departments"), 200) == {"items": []}


async def test_departments_nest_at_most_ten_deep(http: httpx.AsyncClient) -> None:
    ann = await register(http)
    org_id = await create_org(ann)
    parent: str | None = None
    for level in range(1, 11):
        body = {"name": f"Level {level}", "parent_id": parent}
        parent = expect(await ann.post(f"/orgs/{org_id}/departments", body), 201)["id"]
    too_deep = await ann.post(
        f"/orgs/{org_id}/departments", {"name": "Level 11", "parent_id": parent}
    )
    assert too_deep.status_code == 422
    assert "10" in too_deep.json()["error"]["message"]


async def test_departments_per_org_are_bounded(app: Any, http: httpx.AsyncClient) -> None:
    app.state.node.orgs.limits = OrgLimits(departments_per_org=2)
    ann = await register(http)
    org_id = await create_org(ann)
    expect(await ann.post(f"/orgs/{org_id}/departments", {"name": "A"}), 201)
    expect(await ann.post(f"/orgs/{org_id}/departments", {"name": "B"}), 201)
    refused = await ann.post(f"/orgs/{org_id}/departments", {"name": "C"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "department_limit_reached"


@pytest.mark.parametrize(
    "payload",
    [{"name": ""}, {"name": "  "}, {"name": "d" * 101}, {"name": "A", "parent_id": "BAD!"}, {}],
)
async def test_department_input_is_bounded(
    http: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    ann = await register(http)
    org_id = await create_org(ann)
    response = await ann.post(f"/orgs/{org_id}/departments", payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
