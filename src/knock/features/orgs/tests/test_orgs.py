"""Orgs and their members: creating, listing, roles, departments of members, removal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from knock.features.orgs.actions import OrgLimits
from knock.testing import (
    Member,
    create_group,
    create_org,
    expect,
    join_org,
    logged_events,
    register,
)


async def test_create_org_makes_the_caller_owner(http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    org = expect(await ann.post("/orgs", {"name": "  Acme Ltd  "}), 201)
    assert set(org) == {"id", "name", "created_at", "role"}
    assert org["name"] == "Acme Ltd"
    assert org["role"] == "owner"
    assert org["created_at"].endswith("Z")
    assert expect(await ann.get(f"/orgs/{org['id']}"), 200) == org
    listed = expect(await ann.get("/orgs"), 200)
    assert listed == {"items": [org]}


async def test_list_orgs_shows_only_mine_with_my_role(http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    acme = await create_org(ann, "Acme")
    bolts = await create_org(bob, "Bolts")
    await join_org(ann, acme, bob, role="admin")
    assert expect(await ann.get("/orgs"), 200)["items"] == [
        expect(await ann.get(f"/orgs/{acme}"), 200)
    ]
    items = expect(await bob.get("/orgs"), 200)["items"]
    assert [(o["id"], o["role"]) for o in items] == [(acme, "admin"), (bolts, "owner")]


@pytest.mark.parametrize(
    "payload",
    [{"name": ""}, {"name": "   "}, {"name": "x" * 101}, {}, {"name": "A", "owner": "me"}],
)
async def test_create_org_refuses_bad_input(
    http: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    ann = await register(http)
    response = await ann.post("/orgs", payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_org_calls_need_a_token(http: httpx.AsyncClient) -> None:
    ann = await register(http)
    org_id = await create_org(ann)
    for response in [
        await http.get("/orgs"),
        await http.post("/orgs", json={"name": "X"}),
        await http.get(f"/orgs/{org_id}"),
        await http.get(f"/orgs/{org_id}/members"),
    ]:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


async def test_non_members_get_the_same_404_as_for_a_missing_org(http: httpx.AsyncClient) -> None:
    ann, eve = await register(http, "Ann"), await register(http, "Eve")
    org_id = await create_org(ann)
    missing = "0" * 26

    async def answers(org: str) -> list[tuple[int, Any]]:
        calls = [
            await eve.get(f"/orgs/{org}"),
            await eve.get(f"/orgs/{org}/members"),
            await eve.get(f"/orgs/{org}/departments"),
            await eve.put(f"/orgs/{org}/members/{ann.id}", {"role": "member"}),
            await eve.delete(f"/orgs/{org}/members/{ann.id}"),
            await eve.delete(f"/orgs/{org}/members/{eve.id}"),
            await eve.post(f"/orgs/{org}/invites", {}),
            await eve.post(f"/orgs/{org}/departments", {"name": "Sales"}),
        ]
        return [(r.status_code, r.json()) for r in calls]

    seen = await answers(org_id)
    assert seen == await answers(missing)
    assert seen == [(404, {"error": {"code": "not_found", "message": "Not found."}})] * len(seen)
    assert expect(await eve.get("/orgs"), 200) == {"items": []}


async def test_members_list_with_names_roles_and_pages(http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    org_id = await create_org(ann)
    others = [await register(http, f"P{i}") for i in range(4)]
    await join_org(ann, org_id, *others)
    everyone = {m.id: m for m in [ann, *others]}

    first = expect(await ann.get(f"/orgs/{org_id}/members", params={"limit": 2}), 200)
    assert len(first["items"]) == 2
    assert first["next_after"] == first["items"][-1]["user_id"]
    second = expect(
        await ann.get(f"/orgs/{org_id}/members", params={"limit": 2, "after": first["next_after"]}),
        200,
    )
    third = expect(
        await ann.get(
            f"/orgs/{org_id}/members", params={"limit": 2, "after": second["next_after"]}
        ),
        200,
    )
    assert third["next_after"] is None
    items = first["items"] + second["items"] + third["items"]
    assert [m["user_id"] for m in items] == sorted(everyone)
    for member in items:
        person = everyone[member["user_id"]]
        assert set(member) == {
            "user_id",
            "display_name",
            "email",
            "role",
            "department_id",
            "joined_at",
            "titles",
        }
        assert member["display_name"] == person.display_name
        assert member["email"] == person.email
        assert member["role"] == ("owner" if person is ann else "member")
        assert member["department_id"] is None
        assert member["joined_at"].endswith("Z")
    # Members see the list too; a page exactly filled has no next page.
    whole = expect(await others[0].get(f"/orgs/{org_id}/members", params={"limit": 5}), 200)
    assert whole == {"items": items, "next_after": None}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"after": "x" * 27}])
async def test_members_paging_is_bounded(http: httpx.AsyncClient, params: dict[str, Any]) -> None:
    ann = await register(http)
    org_id = await create_org(ann)
    response = await ann.get(f"/orgs/{org_id}/members", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def _roles(viewer: Member, org_id: str) -> dict[str, str]:
    items = expect(await viewer.get(f"/orgs/{org_id}/members", params={"limit": 500}), 200)
    return {m["user_id"]: m["role"] for m in items["items"]}


async def test_role_changes_follow_the_rules(http: httpx.AsyncClient) -> None:
    owner, admin, mia, max_ = [await register(http, n) for n in ("Own", "Adm", "Mia", "Max")]
    org_id = await create_org(owner)
    await join_org(owner, org_id, admin, role="admin")
    await join_org(owner, org_id, mia, max_)

    def put(actor: Member, target: Member, body: dict[str, Any]) -> Any:
        return actor.put(f"/orgs/{org_id}/members/{target.id}", body)

    # A member may change nobody, not even themself.
    for target in (max_, mia):
        refused = await put(mia, target, {"role": "admin"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
    # Admins manage members and admins...
    promoted = expect(await put(admin, mia, {"role": "admin"}), 200)
    assert promoted["role"] == "admin"
    assert promoted["user_id"] == mia.id
    assert promoted["display_name"] == "Mia"
    expect(await put(admin, mia, {"role": "member"}), 200)
    # ...but only an owner grants or takes away the owner role.
    assert (await put(admin, max_, {"role": "owner"})).status_code == 403
    assert (await put(admin, owner, {"role": "member"})).status_code == 403
    assert (await put(admin, admin, {"role": "owner"})).status_code == 403
    # The last owner stays owner.
    last = await put(owner, owner, {"role": "admin"})
    assert last.status_code == 409
    assert last.json()["error"]["code"] == "last_owner"
    expect(await put(owner, max_, {"role": "owner"}), 200)
    # With two owners, one may step down, then the other is the last.
    assert expect(await put(owner, owner, {"role": "member"}), 200)["role"] == "member"
    assert (await put(max_, max_, {"role": "admin"})).status_code == 409
    assert await _roles(max_, org_id) == {
        owner.id: "member",
        admin.id: "admin",
        mia.id: "member",
        max_.id: "owner",
    }
    # The former owner is a member now, so may no longer change roles.
    assert (await put(owner, mia, {"role": "admin"})).status_code == 403
    # Unknown member (but a visible org): 404; unknown role: 422.
    stranger = await register(http)
    assert (await put(max_, stranger, {"role": "admin"})).status_code == 404
    bad = await put(max_, mia, {"role": "emperor"})
    assert bad.status_code == 422
    assert (await put(max_, mia, {"role": "admin", "extra": 1})).status_code == 422


async def test_member_department_is_set_kept_and_cleared(http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    other_org = await create_org(bob, "Other")
    await join_org(ann, org_id, bob)
    sales = expect(await ann.post(f"/orgs/{org_id}/departments", {"name": "Sales"}), 201)["id"]
    elsewhere = expect(
        await bob.post(f"/orgs/{other_org}/departments", {"name": "Elsewhere"}), 201
    )["id"]
    path = f"/orgs/{org_id}/members/{bob.id}"

    assert expect(await ann.put(path, {"department_id": sales}), 200)["department_id"] == sales
    # Changing only the role keeps the department.
    kept = expect(await ann.put(path, {"role": "admin"}), 200)
    assert (kept["role"], kept["department_id"]) == ("admin", sales)
    for bad in (elsewhere, "0" * 26):
        refused = await ann.put(path, {"department_id": bad})
        assert refused.status_code == 422
        assert "department_id" in refused.json()["error"]["message"]
    cleared = expect(await ann.put(path, {"department_id": None}), 200)
    assert (cleared["role"], cleared["department_id"]) == ("admin", None)
    members = expect(await bob.get(f"/orgs/{org_id}/members"), 200)["items"]
    assert {m["user_id"]: m["department_id"] for m in members} == {ann.id: None, bob.id: None}


async def test_removal_rules_and_leaving(http: httpx.AsyncClient) -> None:
    owner, admin, mia, max_ = [await register(http, n) for n in ("Own", "Adm", "Mia", "Max")]
    org_id = await create_org(owner)
    await join_org(owner, org_id, admin, role="admin")
    await join_org(owner, org_id, mia, max_)

    def delete(actor: Member, target: Member) -> Any:
        return actor.delete(f"/orgs/{org_id}/members/{target.id}")

    # Members remove nobody but themself; admins never an owner.
    assert (await delete(mia, max_)).status_code == 403
    assert (await delete(admin, owner)).status_code == 403
    # The last owner cannot leave.
    last = await delete(owner, owner)
    assert last.status_code == 409
    assert last.json()["error"]["code"] == "last_owner"
    # An admin removes a member; access ends at once.
    expect(await delete(admin, mia), 204)
    for path in (f"/orgs/{org_id}", f"/orgs/{org_id}/members", f"/orgs/{org_id}/departments"):
        gone = await mia.get(path)
        assert gone.status_code == 404
        assert gone.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert expect(await mia.get("/orgs"), 200) == {"items": []}
    # Removing someone who is not (or no longer) a member is a 404.
    assert (await delete(admin, mia)).status_code == 404
    # Anyone may leave.
    expect(await delete(max_, max_), 204)
    assert (await max_.get(f"/orgs/{org_id}")).status_code == 404
    # An owner removes an admin, and a second owner may leave.
    expect(await owner.put(f"/orgs/{org_id}/members/{admin.id}", {"role": "owner"}), 200)
    expect(await delete(admin, admin), 204)
    expect(await delete(owner, owner), 409)
    assert await _roles(owner, org_id) == {owner.id: "owner"}


async def test_a_removed_member_can_rejoin_with_an_invite(http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    await join_org(ann, org_id, bob, role="admin")
    expect(await ann.delete(f"/orgs/{org_id}/members/{bob.id}"), 204)
    await join_org(ann, org_id, bob)
    assert expect(await bob.get(f"/orgs/{org_id}"), 200)["role"] == "member"


async def test_one_person_belongs_to_a_bounded_number_of_orgs(
    app: Any, http: httpx.AsyncClient
) -> None:
    app.state.node.orgs.limits = OrgLimits(orgs_per_user=2)
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    await create_org(ann, "One")
    await create_org(ann, "Two")
    refused = await ann.post("/orgs", {"name": "Three"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "org_limit_reached"
    bobs = await create_org(bob, "Bob's")
    code = expect(await bob.post(f"/orgs/{bobs}/invites", {"max_uses": 1}), 201)["code"]
    assert (await ann.post(f"/invites/{code}/accept")).status_code == 409
    # The refused acceptance did not use up the invite.
    expect(await bob.get(f"/invites/{code}"), 200)
    assert len(expect(await ann.get("/orgs"), 200)["items"]) == 2


async def test_removal_also_ends_access_to_the_orgs_conversations(
    app: Any, http: httpx.AsyncClient
) -> None:
    ann, bob, cat = [await register(http, n) for n in ("Ann", "Bob", "Cat")]
    org_id = await create_org(ann)
    await join_org(ann, org_id, bob, cat)
    group = await create_group(ann, org_id, bob, cat)
    expect(await bob.get(f"/conversations/{group}"), 200)
    expect(await ann.delete(f"/orgs/{org_id}/members/{bob.id}"), 204)
    assert (await bob.get(f"/conversations/{group}")).status_code == 404
    assert (await bob.get(f"/conversations/{group}/messages")).status_code == 404
    assert expect(await ann.get(f"/conversations/{group}"), 200)["member_count"] == 2
    left = [f for f, _ in await logged_events(app, "member.left")]
    assert [(f["conversation_id"], f["user_id"]) for f in left] == [(group, bob.id)]
