"""The org chart approvals route through: department heads, moves without cycles, job titles."""

from __future__ import annotations

from typing import Any

import httpx

from knock.testing import expect, logged_events, team


async def test_departments_get_heads_move_and_rename(http: httpx.AsyncClient, app: Any) -> None:
    org_id, (ann, bob, cy) = await team(http, "Ann", "Bob", "Cy")
    top = expect(await ann.post(f"/orgs/{org_id}/departments", {"name": "Top"}), 201)
    mid = expect(
        await ann.post(
            f"/orgs/{org_id}/departments",
            {"name": "Mid", "parent_id": top["id"], "head_id": bob.id},
        ),
        201,
    )
    assert mid["head_id"] == bob.id
    low = expect(
        await ann.post(f"/orgs/{org_id}/departments", {"name": "Low", "parent_id": mid["id"]}), 201
    )
    path = f"/orgs/{org_id}/departments/{top['id']}"
    moved = expect(await ann.put(path, {"name": "Board", "head_id": cy.id}), 200)
    assert (moved["name"], moved["head_id"], moved["parent_id"]) == ("Board", cy.id, None)

    # No cycles: a department cannot go under itself or its own descendants.
    for parent in (top["id"], low["id"]):
        refused = await ann.put(path, {"parent_id": parent})
        assert refused.status_code == 422, refused.text
    # Moving a branch to the top and back.
    expect(await ann.put(f"/orgs/{org_id}/departments/{mid['id']}", {"parent_id": None}), 200)
    back = {"parent_id": top["id"]}
    assert (
        expect(await ann.put(f"/orgs/{org_id}/departments/{mid['id']}", back), 200)["parent_id"]
        == top["id"]
    )

    assert (await bob.put(path, {"name": "Mine"})).status_code == 403
    stranger_org, (eve,) = await team(http, "Eve")
    not_member = await ann.put(path, {"head_id": eve.id})
    assert not_member.status_code == 422 and "head_id" in not_member.json()["error"]["message"]
    missing = await ann.put(f"/orgs/{org_id}/departments/{stranger_org}", {"name": "X"})
    assert missing.status_code == 404
    cleared = expect(await ann.put(path, {"head_id": None}), 200)
    assert cleared["head_id"] is None

    # A head who leaves the team stops heading.
    expect(await ann.delete(f"/orgs/{org_id}/members/{bob.id}"), 204)
    listed = expect(await ann.get(f"/orgs/{org_id}/departments"), 200)["items"]
    assert [d["head_id"] for d in listed if d["id"] == mid["id"]] == [None]
    updates = [f["department"] for f, _ in await logged_events(app, "org.department_updated")]
    assert updates[-1] == {**mid, "head_id": None}


async def test_departments_nest_at_most_ten_deep_when_moved(http: httpx.AsyncClient) -> None:
    org_id, (ann,) = await team(http, "Ann")
    chain: list[str] = []
    for depth in range(5):
        body = {"name": f"D{depth}", "parent_id": chain[-1] if chain else None}
        chain.append(expect(await ann.post(f"/orgs/{org_id}/departments", body), 201)["id"])
    other: list[str] = []
    for depth in range(6):
        body = {"name": f"E{depth}", "parent_id": other[-1] if other else None}
        other.append(expect(await ann.post(f"/orgs/{org_id}/departments", body), 201)["id"])
    # Five deep under six deep would be eleven.
    too_deep = await ann.put(f"/orgs/{org_id}/departments/{chain[0]}", {"parent_id": other[-1]})
    assert too_deep.status_code == 422 and "deep" in too_deep.json()["error"]["message"]
    expect(await ann.put(f"/orgs/{org_id}/departments/{chain[0]}", {"parent_id": other[-2]}), 200)


async def test_members_carry_job_titles(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    path = f"/orgs/{org_id}/members/{bob.id}"
    member = expect(await ann.put(path, {"titles": ["hr", "finance", "hr"]}), 200)
    assert member["titles"] == ["finance", "hr"]
    listed = expect(await bob.get(f"/orgs/{org_id}/members"), 200)["items"]
    assert {m["user_id"]: m["titles"] for m in listed} == {ann.id: [], bob.id: ["finance", "hr"]}
    for bad in (["HR"], ["with space"], [""], ["x" * 33], [f"t{i}" for i in range(21)]):
        assert (await ann.put(path, {"titles": bad})).status_code == 422
    assert (await bob.put(path, {"titles": []})).status_code == 403
    assert expect(await ann.put(path, {"titles": []}), 200)["titles"] == []
