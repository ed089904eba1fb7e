"""Conversations: dms and groups, listing, members, leaving, and their events."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from knock.testing import (
    Member,
    add_people,
    create_group,
    create_org,
    expect,
    join_org,
    logged_events,
    register,
    send_text,
    team,
)

CONVERSATION_FIELDS = {
    "id",
    "org_id",
    "kind",
    "title",
    "created_by",
    "created_at",
    "member_count",
    "last_seq",
    "read_seq",
    "unread_count",
    "last_message",
    "peer_id",
}


async def test_create_group_makes_the_creator_owner(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    body = {"kind": "group", "member_ids": [bob.id, cat.id, bob.id], "title": " Launch "}
    group = expect(await ann.post(f"/orgs/{org_id}/conversations", body), 201)
    assert set(group) == CONVERSATION_FIELDS
    assert group["kind"] == "group"
    assert group["title"] == "Launch"
    assert group["org_id"] == org_id
    assert group["created_by"] == ann.id
    assert group["created_at"].endswith("Z")
    assert (group["member_count"], group["last_seq"], group["read_seq"]) == (3, 0, 0)
    assert (group["unread_count"], group["last_message"], group["peer_id"]) == (0, None, None)
    assert expect(await bob.get(f"/conversations/{group['id']}"), 200) == group

    members = expect(await ann.get(f"/conversations/{group['id']}/members"), 200)
    roles = {m["user_id"]: m["role"] for m in members["items"]}
    assert roles == {ann.id: "owner", bob.id: "member", cat.id: "member"}
    assert members["next_after"] is None
    names = {m["user_id"]: m["display_name"] for m in members["items"]}
    assert names[bob.id] == "Bob"

    [(frame, audience)] = await logged_events(app, "conversation.created")
    assert frame["conversation"] == group
    assert sorted(frame["member_ids"]) == sorted([ann.id, bob.id, cat.id])
    assert audience.conversation_id == group["id"]


async def test_group_title_defaults_to_group(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "group", "member_ids": [bob.id]}),
        201,
    )
    assert group["title"] == "Group"


async def test_only_org_members_create_and_join_conversations(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    outsider = await register(http, "Eve")
    body = {"kind": "group", "member_ids": [bob.id]}
    missing = await outsider.post(f"/orgs/{org_id}/conversations", body)
    assert missing.status_code == 404
    assert missing.json() == (await outsider.post("/orgs/nosuchorg/conversations", body)).json()

    for kind in ("group", "dm"):
        refused = await ann.post(
            f"/orgs/{org_id}/conversations", {"kind": kind, "member_ids": [outsider.id]}
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "not_org_members"


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "channel", "member_ids": []},
        {"kind": "group", "member_ids": [], "title": ""},
        {"kind": "group", "member_ids": [], "title": "   "},
        {"kind": "group", "member_ids": [], "title": "x" * 101},
        {"kind": "group", "member_ids": ["NOT AN ID"]},
        {"kind": "group"},
        {"kind": "group", "member_ids": [], "topic": "x"},
        {"kind": "dm", "member_ids": []},
    ],
)
async def test_create_refuses_bad_input(http: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    org_id, (ann,) = await team(http, "Ann")
    response = await ann.post(f"/orgs/{org_id}/conversations", payload)
    assert response.status_code == 422
    assert response.json()["error"]["message"]


async def test_dm_is_one_per_pair(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    dm = expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        201,
    )
    assert (dm["kind"], dm["title"], dm["member_count"], dm["peer_id"]) == ("dm", None, 2, bob.id)
    # Again, from either side, with or without oneself in member_ids: the same dm, 200.
    again = expect(
        await bob.post(
            f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id, ann.id]}
        ),
        200,
    )
    assert again["id"] == dm["id"]
    assert again["peer_id"] == ann.id
    assert expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        200,
    ) == expect(await ann.get(f"/conversations/{dm['id']}"), 200)
    [(created, audience)] = await logged_events(app, "conversation.created")
    # One frame for both: no peer_id in it.
    assert created["conversation"] == {**dm, "peer_id": None}
    assert sorted(created["member_ids"]) == sorted([ann.id, bob.id])
    assert audience.conversation_id == dm["id"]

    for member_ids in ([ann.id], [ann.id, ann.id], [bob.id, cat.id]):
        refused = await ann.post(
            f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": member_ids}
        )
        assert refused.status_code == 422, member_ids
    # Another pair, and the same pair in another org, are other dms.
    other_org = await create_org(ann, "Other")
    await join_org(ann, other_org, bob)
    elsewhere = expect(
        await ann.post(f"/orgs/{other_org}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        201,
    )
    assert elsewhere["id"] != dm["id"]


async def test_concurrent_dm_creation_makes_one_dm(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")

    async def create(me: Member, other: Member) -> httpx.Response:
        return await me.post(
            f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [other.id]}
        )

    responses = await asyncio.gather(*[create(ann, bob) for _ in range(4)], create(bob, ann))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1


async def test_a_500_member_group_is_created_at_once(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann,) = await team(http, "Ann")
    people = await add_people(http, app, org_id, 499)
    body = {"kind": "group", "member_ids": [p.id for p in people], "title": "All hands"}
    started = time.perf_counter()
    group = expect(await ann.post(f"/orgs/{org_id}/conversations", body), 201)
    elapsed = time.perf_counter() - started
    print(f"\ncreating a 500-member group took {elapsed * 1000:.1f} ms")
    assert group["member_count"] == 500
    page = expect(await people[-1].get(f"/conversations/{group['id']}/members?limit=1000"), 200)
    assert len(page["items"]) == 500


async def test_conversation_list_newest_activity_first_with_paging(
    http: httpx.AsyncClient,
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    other_org = await create_org(ann, "Other")
    ids = [await create_group(ann, org_id, bob, title=f"G{i}") for i in range(5)]
    elsewhere = await create_group(ann, other_org, title="Elsewhere")
    await send_text(bob, ids[1], "bump")  # activity moves G1 to the top

    expected = [ids[1], elsewhere, ids[4], ids[3], ids[2], ids[0]]
    seen: list[str] = []
    before: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if before:
            params["before"] = before
        page = expect(await ann.get("/conversations", params=params), 200)
        seen += [c["id"] for c in page["items"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == expected

    top = expect(await ann.get("/conversations", params={"org_id": org_id, "limit": 1}), 200)
    [g1] = top["items"]
    assert g1["id"] == ids[1]
    assert (g1["last_seq"], g1["read_seq"], g1["unread_count"]) == (1, 0, 1)
    assert g1["last_message"]["text"] == "bump"
    assert g1["last_message"]["unread_count"] is None  # not Ann's own message
    mine = expect(await bob.get("/conversations", params={"limit": 1}), 200)["items"][0]
    assert mine["unread_count"] == 0
    assert mine["last_message"]["unread_count"] == 1  # Ann has not read Bob's message

    everything = expect(await bob.get("/conversations", params={"org_id": org_id}), 200)
    assert len(everything["items"]) == 5
    assert everything["next_before"] is None


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 201}, {"before": "garbage!"}, {"before": "x" * 201}]
)
async def test_conversation_list_refuses_bad_paging(
    http: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    ann = await register(http)
    response = await ann.get("/conversations", params=params)
    assert response.status_code == 422


async def test_conversation_list_costs_the_same_queries_for_any_page_size(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.state.node.db.read_engine.sync_engine

    async def queries_for_listing() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            expect(await ann.get("/conversations"), 200)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len([s for s in statements if "auth_sessions" not in s])

    async def add_some(n: int) -> None:
        for i in range(n):
            group = await create_group(ann, org_id, bob, title=f"G{i}")
            await send_text(ann if i % 2 else bob, group, "hi")
            dm_with = cat if i == 0 else bob
            dm = await ann.post(
                f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [dm_with.id]}
            )
            assert dm.status_code in (200, 201)
            await send_text(ann, dm.json()["id"], "hello")

    await add_some(2)
    few = await queries_for_listing()
    await add_some(6)
    many = await queries_for_listing()
    assert few == many
    assert many <= 6


async def test_non_members_get_the_404_of_a_missing_conversation(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    outsider = await register(http, "Eve")
    group = await create_group(ann, org_id, bob)
    missing = await ann.get("/conversations/0000000000000000000000000a")
    assert missing.status_code == 404
    for who in (cat, outsider):  # cat is in the org, not in the group
        for response in [
            await who.get(f"/conversations/{group}"),
            await who.patch(f"/conversations/{group}", {"title": "x"}),
            await who.get(f"/conversations/{group}/members"),
            await who.post(f"/conversations/{group}/members", {"user_ids": [who.id]}),
            await who.delete(f"/conversations/{group}/members/{who.id}"),
        ]:
            assert response.status_code == 404
            assert response.json() == missing.json()
    assert expect(await cat.get("/conversations"), 200)["items"] == []


async def test_rename_a_group(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    renamed = expect(await bob.patch(f"/conversations/{group}", {"title": " Renamed "}), 200)
    assert renamed["title"] == "Renamed"
    [(frame, audience)] = await logged_events(app, "conversation.updated")
    assert frame["conversation_id"] == group
    assert frame["title"] == "Renamed"
    assert audience.conversation_id == group
    for bad in ({"title": ""}, {"title": "x" * 101}, {}):
        assert (await bob.patch(f"/conversations/{group}", bad)).status_code == 422
    dm = expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        201,
    )
    assert (await ann.patch(f"/conversations/{dm['id']}", {"title": "x"})).status_code == 422


async def test_add_members(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat, dan) = await team(http, "Ann", "Bob", "Cat", "Dan")
    outsider = await register(http, "Eve")
    group = await create_group(ann, org_id, bob)
    await send_text(ann, group, "before you came")
    added = expect(
        await bob.post(f"/conversations/{group}/members", {"user_ids": [cat.id, ann.id, cat.id]}),
        200,
    )
    assert added == {"added": [cat.id]}
    seen = expect(await cat.get(f"/conversations/{group}"), 200)
    assert (seen["member_count"], seen["read_seq"], seen["unread_count"]) == (3, 1, 0)
    [(frame, audience)] = await logged_events(app, "member.joined")
    assert frame == {
        "type": "member.joined",
        "cursor": frame["cursor"],
        "conversation_id": group,
        "user_ids": [cat.id],
    }
    assert audience.conversation_id == group
    # Nobody new: no event.
    assert expect(
        await bob.post(f"/conversations/{group}/members", {"user_ids": [cat.id]}), 200
    ) == {"added": []}
    assert len(await logged_events(app, "member.joined")) == 1

    refused = await ann.post(f"/conversations/{group}/members", {"user_ids": [outsider.id]})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "not_org_members"
    for bad in ({"user_ids": []}, {"user_ids": ["a"] * 1001}, {}):
        assert (await ann.post(f"/conversations/{group}/members", bad)).status_code == 422
    dm = expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        201,
    )
    to_dm = await ann.post(f"/conversations/{dm['id']}/members", {"user_ids": [dan.id]})
    assert to_dm.status_code == 422


async def test_members_are_paged(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann,) = await team(http, "Ann")
    people = await add_people(http, app, org_id, 6)
    group = await create_group(ann, org_id, *people)
    seen: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if after:
            params["after"] = after
        page = expect(await ann.get(f"/conversations/{group}/members", params=params), 200)
        seen += [m["user_id"] for m in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted([ann.id, *(p.id for p in people)])
    for bad in ({"limit": 0}, {"limit": 1001}):
        assert (await ann.get(f"/conversations/{group}/members", params=bad)).status_code == 422


async def test_leave_and_remove(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat, dan) = await team(http, "Ann", "Bob", "Cat", "Dan")
    group = await create_group(ann, org_id, bob, cat, dan)

    refused = await bob.delete(f"/conversations/{group}/members/{cat.id}")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    expect(await ann.delete(f"/conversations/{group}/members/{cat.id}"), 204)  # the owner
    expect(await bob.delete(f"/conversations/{group}/members/{bob.id}"), 204)  # leaving
    gone = await bob.delete(f"/conversations/{group}/members/{bob.id}")
    assert gone.status_code == 404
    assert (await ann.delete(f"/conversations/{group}/members/{bob.id}")).status_code == 404
    for who in (bob, cat):
        assert (await who.get(f"/conversations/{group}")).status_code == 404
        assert (
            await who.post(f"/conversations/{group}/messages", {"client_msg_id": "x", "text": "hi"})
        ).status_code == 404
    assert expect(await ann.get(f"/conversations/{group}"), 200)["member_count"] == 2

    left = await logged_events(app, "member.left")
    assert [(f["conversation_id"], f["user_id"]) for f, _ in left] == [
        (group, cat.id),
        (group, bob.id),
    ]
    assert [a.user_ids for _, a in left] == [(cat.id,), (bob.id,)]
    assert all(a.conversation_id == group for _, a in left)

    dm = expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        201,
    )
    assert (await ann.delete(f"/conversations/{dm['id']}/members/{ann.id}")).status_code == 422


async def test_an_org_admin_may_remove_anyone(http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    admin = await register(http, "Adm")
    await join_org(ann, org_id, admin, role="admin")
    group = await create_group(bob, org_id, cat, admin)
    expect(await admin.delete(f"/conversations/{group}/members/{cat.id}"), 204)
    expect(await admin.delete(f"/conversations/{group}/members/{bob.id}"), 204)


async def test_when_the_owner_leaves_the_longest_standing_member_owns(
    http: httpx.AsyncClient,
) -> None:
    org_id, (ann, bob, cat, dan) = await team(http, "Ann", "Bob", "Cat", "Dan")
    group = await create_group(ann, org_id, bob)
    expect(await ann.post(f"/conversations/{group}/members", {"user_ids": [cat.id]}), 200)
    expect(await ann.post(f"/conversations/{group}/members", {"user_ids": [dan.id]}), 200)
    expect(await ann.delete(f"/conversations/{group}/members/{ann.id}"), 204)
    roles = {
        m["user_id"]: m["role"]
        for m in expect(await cat.get(f"/conversations/{group}/members"), 200)["items"]
    }
    assert roles == {bob.id: "owner", cat.id: "member", dan.id: "member"}
    expect(await bob.delete(f"/conversations/{group}/members/{bob.id}"), 204)
    roles = {
        m["user_id"]: m["role"]
        for m in expect(await cat.get(f"/conversations/{group}/members"), 200)["items"]
    }
    assert roles == {cat.id: "owner", dan.id: "member"}
    # The new owner may now remove others.
    expect(await cat.delete(f"/conversations/{group}/members/{dan.id}"), 204)


async def test_leaving_the_org_leaves_its_conversations(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    other_org = await create_org(bob, "Other")
    await join_org(bob, other_org, cat)
    group = await create_group(bob, org_id, ann, cat)
    dm = expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        201,
    )["id"]
    kept = await create_group(bob, other_org, cat)

    expect(await ann.delete(f"/orgs/{org_id}/members/{bob.id}"), 204)
    for conversation_id in (group, dm):
        assert (await bob.get(f"/conversations/{conversation_id}")).status_code == 404
    assert [c["id"] for c in expect(await bob.get("/conversations"), 200)["items"]] == [kept]
    left = await logged_events(app, "member.left")
    assert sorted(f["conversation_id"] for f, _ in left) == sorted([group, dm])
    assert all(f["user_id"] == bob.id and a.user_ids == (bob.id,) for f, a in left)
    # Bob owned the group: Ann (who joined it first) owns it now.
    members = expect(await ann.get(f"/conversations/{group}/members"), 200)["items"]
    assert {m["user_id"]: m["role"] for m in members} == {ann.id: "owner", cat.id: "member"}
    assert expect(await ann.get(f"/conversations/{dm}"), 200)["member_count"] == 1

    # Invited back, Bob gets the same dm again.
    await join_org(ann, org_id, bob)
    again = expect(
        await bob.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [ann.id]}),
        200,
    )
    assert (again["id"], again["member_count"], again["peer_id"]) == (dm, 2, ann.id)
    [(joined, _)] = await logged_events(app, "member.joined")
    assert joined["user_ids"] == [bob.id]


async def test_conversation_calls_need_a_token(http: httpx.AsyncClient) -> None:
    for response in [
        await http.get("/conversations"),
        await http.get("/conversations/x"),
        await http.post("/orgs/x/conversations", json={"kind": "dm", "member_ids": []}),
    ]:
        assert response.status_code == 401


async def test_membership_changes_and_sends_run_concurrently(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann,) = await team(http, "Ann")
    people = await add_people(http, app, org_id, 12)
    group = await create_group(ann, org_id, *people[:4])
    newcomers = [p.id for p in people[4:]]

    async def add(who: Member) -> httpx.Response:
        return await who.post(f"/conversations/{group}/members", {"user_ids": newcomers})

    results = await asyncio.gather(
        *[send_text(p, group, "hi") for p in people[:4]],
        add(people[0]),
        add(people[1]),
        people[2].delete(f"/conversations/{group}/members/{people[2].id}"),
        *[send_text(ann, group, "busy") for _ in range(6)],
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    # People[2] may have left before their own send: that send is a 404, nothing else fails.
    assert all("404" in str(f) for f in failures), failures
    adds = [r for r in results if isinstance(r, httpx.Response) and r.request.method == "POST"]
    added = [u for r in adds for u in expect(r, 200)["added"]]
    assert sorted(added) == sorted(newcomers)  # each added once
    conversation = expect(await ann.get(f"/conversations/{group}"), 200)
    assert conversation["member_count"] == 5 + len(newcomers) - 1
    page = expect(await ann.get(f"/conversations/{group}/messages"), 200)["items"]
    assert [m["seq"] for m in page] == list(range(1, conversation["last_seq"] + 1))
