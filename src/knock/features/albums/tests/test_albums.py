"""Team and conversation albums: who sees them, items from uploads and messages, captions,
paging, idempotent adds, who may change what, and album.updated events."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from knock.features.media.tests import corpus
from knock.features.media.tests.test_uploads import upload
from knock.testing import Member, create_group, expect, logged_events, team


async def photo(who: Member, size: tuple[int, int] = (40, 30)) -> str:
    return str(expect(await upload(who, corpus.png(size), "p.png", "image/png"), 201)["id"])


async def recording(who: Member) -> dict[str, Any]:
    result: dict[str, Any] = expect(await upload(who, corpus.wav(1.0), "v.wav", "audio/wav"), 201)
    return result


async def add(who: Member, album_id: str, **body: Any) -> httpx.Response:
    return await who.post(f"/albums/{album_id}/items", {"client_item_id": uuid.uuid4().hex, **body})


async def send(who: Member, conversation_id: str, **body: Any) -> dict[str, Any]:
    sent: dict[str, Any] = expect(
        await who.post(
            f"/conversations/{conversation_id}/messages",
            {"client_msg_id": uuid.uuid4().hex, "text": "", **body},
        ),
        201,
    )
    return sent


async def test_a_team_album_is_seen_by_the_team_and_a_conversation_album_by_its_members(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    _, (eve,) = await team(http, "Eve")
    group = await create_group(ann, org_id, bob, title="Trip")
    shared = expect(await cat.post(f"/orgs/{org_id}/albums", {"title": " Offsite "}), 201)
    assert (shared["title"], shared["owner_id"], shared["conversation_id"]) == (
        "Offsite",
        cat.id,
        None,
    )
    assert (shared["item_count"], shared["cover_media_id"]) == (0, None)
    trip = expect(
        await bob.post(f"/orgs/{org_id}/albums", {"title": "Trip", "conversation_id": group}),
        201,
    )
    assert trip["conversation_id"] == group

    for who, seen in ((ann, [trip, shared]), (bob, [trip, shared]), (cat, [shared])):
        page = expect(await who.get(f"/orgs/{org_id}/albums"), 200)
        assert [a["id"] for a in page["items"]] == [a["id"] for a in seen], who.display_name
        assert page["next_before"] is None
    only = expect(await ann.get(f"/orgs/{org_id}/albums?conversation_id={group}"), 200)
    assert [a["id"] for a in only["items"]] == [trip["id"]]
    assert (await cat.get(f"/orgs/{org_id}/albums?conversation_id={group}")).status_code == 404
    assert expect(await cat.get(f"/albums/{shared['id']}"), 200) == shared
    for who, album in ((cat, trip), (eve, trip), (eve, shared)):
        for path in (f"/albums/{album['id']}", f"/albums/{album['id']}/items"):
            gone = await who.get(path)
            assert (gone.status_code, gone.json()["error"]["code"]) == (404, "not_found")
        assert (await add(who, album["id"], media_id=await photo(who))).status_code == 404
    assert (await eve.get(f"/orgs/{org_id}/albums")).status_code == 404

    # A conversation album needs a conversation of the caller's, in this team.
    refused = await cat.post(f"/orgs/{org_id}/albums", {"title": "X", "conversation_id": group})
    assert refused.status_code == 422
    elsewhere = await create_group(eve, (await eve.get("/orgs")).json()["items"][0]["id"])
    refused = await eve.post(f"/orgs/{org_id}/albums", {"title": "X", "conversation_id": elsewhere})
    assert refused.status_code == 404  # Eve is not in Ann's team at all
    for bad in ({"title": ""}, {"title": "   "}, {"title": "x" * 101}, {"title": "x", "z": 1}):
        assert (await ann.post(f"/orgs/{org_id}/albums", bad)).status_code == 422

    created = [f for f, a in await logged_events(app, "album.updated")]
    assert [(f["change"], f["album"]["id"]) for f in created] == [
        ("created", shared["id"]),
        ("created", trip["id"]),
    ]
    audiences = [a for _, a in await logged_events(app, "album.updated")]
    assert (audiences[0].org_id, audiences[0].conversation_id) == (org_id, None)
    assert audiences[1].conversation_id == group


async def test_items_from_uploads_and_messages_with_captions_and_paging(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob)
    album = expect(await cat.post(f"/orgs/{org_id}/albums", {"title": "Team"}), 201)
    path = f"/albums/{album['id']}/items"

    image = await photo(ann, (64, 48))
    voice = await recording(ann)
    vp = expect(
        await add(ann, album["id"], media_id=image, voice_media_id=voice["id"], caption="hi"),
        201,
    )
    assert (vp["kind"], vp["media_id"], vp["voice_media_id"]) == ("voice_photo", image, voice["id"])
    assert (vp["width"], vp["height"], vp["caption"]) == (64, 48, "hi")
    assert (vp["duration_ms"], vp["waveform"]) == (voice["duration_ms"], voice["waveform"])
    assert (vp["source_message_id"], vp["added_by"]) == (None, ann.id)

    sent = await send(bob, group, type="image", media_ids=[await photo(bob)])
    from_message = expect(await add(ann, album["id"], message_id=sent["id"]), 201)
    assert (from_message["kind"], from_message["source_message_id"]) == ("image", sent["id"])
    assert from_message["media_id"] == sent["media"][0]["id"]
    # Cat is not in the group: the album shows her the photo all the same.
    assert (await cat.get(f"/media/{from_message['media_id']}")).status_code == 200
    assert (await cat.get(f"/media/{from_message['media_id']}?thumb=1")).status_code == 200
    assert (await cat.get(f"/media/{image}")).status_code == 200
    assert (await cat.get(f"/media/{voice['id']}")).status_code == 200
    # ...but not by naming it in her own message from the album.
    assert (await add(cat, album["id"], message_id=sent["id"])).status_code == 404

    for _ in range(3):
        expect(await add(bob, album["id"], media_id=await photo(bob)), 201)
    first = expect(await cat.get(f"{path}?limit=2"), 200)
    second = expect(await cat.get(f"{path}?limit=2&before={first['next_before']}"), 200)
    third = expect(await cat.get(f"{path}?limit=2&before={second['next_before']}"), 200)
    listed = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert len(listed) == len(set(listed)) == 5
    assert listed[-2:] == [from_message["id"], vp["id"]]
    assert third["next_before"] is None
    shown = expect(await ann.get(f"/albums/{album['id']}"), 200)
    assert (shown["item_count"], shown["cover_media_id"]) == (5, first["items"][0]["media_id"])
    for bad in ("limit=0", "limit=101", "before=NOT-AN-ID"):
        assert (await cat.get(f"{path}?{bad}")).status_code == 422

    changes = [f["change"] for f, _ in await logged_events(app, "album.updated")]
    assert changes == ["created"] + ["item_added"] * 5


async def test_adding_is_idempotent_per_client_item_id(http: httpx.AsyncClient) -> None:
    org_id, (ann,) = await team(http, "Ann")
    album = expect(await ann.post(f"/orgs/{org_id}/albums", {"title": "A"}), 201)
    image = await photo(ann)
    body = {"client_item_id": "k1", "media_id": image, "caption": "x"}
    first = expect(await ann.post(f"/albums/{album['id']}/items", body), 201)
    again = expect(await ann.post(f"/albums/{album['id']}/items", body), 200)
    assert again == first
    other = await ann.post(f"/albums/{album['id']}/items", {**body, "caption": "y"})
    assert (other.status_code, other.json()["error"]["code"]) == (409, "client_item_id_reused")
    assert expect(await ann.get(f"/albums/{album['id']}"), 200)["item_count"] == 1


async def test_what_cannot_go_into_an_album(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    album = expect(await ann.post(f"/orgs/{org_id}/albums", {"title": "A"}), 201)
    mine, voice = await photo(ann), await recording(ann)

    def code(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    # Another's upload, audio as the photo, a photo as the voice, both sources, neither.
    assert code(await add(ann, album["id"], media_id=await photo(bob)))[0] == 422
    assert code(await add(ann, album["id"], media_id=voice["id"]))[0] == 422
    assert code(await add(ann, album["id"], media_id=mine, voice_media_id=mine))[0] == 422
    assert (
        code(await add(ann, album["id"], media_id=mine, voice_media_id=await photo(ann)))[0] == 422
    )
    text = await send(ann, group, text="words")
    assert code(await add(ann, album["id"], media_id=mine, message_id=text["id"]))[0] == 422
    assert code(await add(ann, album["id"]))[0] == 422
    assert code(await add(ann, album["id"], message_id=text["id"]))[0] == 422
    assert code(await add(ann, album["id"], media_id=mine, caption="x" * 501))[0] == 422

    # A burn-after-reading message: never, for sender or recipient.
    burn = await send(
        ann, group, text="secret", type="image", media_ids=[await photo(ann)], burn_after_s=10
    )
    expect(await bob.post(f"/messages/{burn['id']}/open"), 200)
    for who in (ann, bob):
        assert code(await add(who, album["id"], message_id=burn["id"])) == (422, "burn_message")
    # A recalled one: its files are gone.
    recalled = await send(ann, group, type="image", media_ids=[await photo(ann)])
    expect(await ann.post(f"/messages/{recalled['id']}/recall"), 200)
    assert code(await add(bob, album["id"], message_id=recalled["id"])) == (409, "message_recalled")
    # An upload already sent goes in from its message, not as an upload.
    sent_photo = await photo(ann)
    await send(ann, group, type="image", media_ids=[sent_photo])
    assert code(await add(ann, album["id"], media_id=sent_photo)) == (409, "media_in_use")
    # An upload in an album cannot then be sent (a burn message must never share it).
    expect(await add(ann, album["id"], media_id=mine), 201)
    refused = await ann.post(
        f"/conversations/{group}/messages",
        {"client_msg_id": "m", "text": "", "type": "image", "media_ids": [mine], "burn_after_s": 5},
    )
    assert code(refused) == (409, "media_in_use")
    # A message of another team's conversation.
    _, (eve,) = await team(http, "Eve")
    eve_org = (await eve.get("/orgs")).json()["items"][0]["id"]
    await join_team_of(eve, ann, eve_org)
    theirs = await create_group(eve, eve_org, ann)
    elsewhere = await send(eve, theirs, type="image", media_ids=[await photo(eve)])
    assert code(await add(ann, album["id"], message_id=elsewhere["id"]))[0] == 422
    assert expect(await ann.get(f"/albums/{album['id']}"), 200)["item_count"] == 1


async def join_team_of(owner: Member, newcomer: Member, org_id: str) -> None:
    code = expect(await owner.post(f"/orgs/{org_id}/invites", {}), 201)["code"]
    expect(await newcomer.post(f"/invites/{code}/accept"), 200)


async def test_who_may_rename_caption_remove_and_delete(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob, cat, dan) = await team(http, "Ann", "Bob", "Cat", "Dan")
    album = expect(await bob.post(f"/orgs/{org_id}/albums", {"title": "Bob's"}), 201)
    path = f"/albums/{album['id']}"
    cats = expect(await add(cat, album["id"], media_id=await photo(cat)), 201)
    dans = expect(await add(dan, album["id"], media_id=await photo(dan)), 201)
    item_path = f"{path}/items/{cats['id']}"

    # Dan is neither owner, admin nor the adder of Cat's item.
    assert (await dan.patch(path, {"title": "Mine"})).status_code == 403
    assert (await dan.delete(path)).status_code == 403
    assert (await dan.patch(item_path, {"caption": "no"})).status_code == 403
    assert (await dan.delete(item_path)).status_code == 403
    assert (
        await dan.patch(f"{path}/items/{uuid.uuid4().hex[:26]}", {"caption": "x"})
    ).status_code == 404
    # The adder, the album's owner and an admin may.
    assert expect(await cat.patch(item_path, {"caption": "by Cat"}), 200)["caption"] == "by Cat"
    assert expect(await bob.patch(item_path, {"caption": "by Bob"}), 200)["caption"] == "by Bob"
    assert expect(await ann.patch(item_path, {"caption": ""}), 200)["caption"] == ""
    assert (await ann.patch(item_path, {"caption": "x" * 501})).status_code == 422
    renamed = expect(await ann.patch(path, {"title": "Ours"}), 200)
    assert renamed["title"] == "Ours" and renamed["updated_at"] >= album["updated_at"]
    expect(await dan.delete(f"{path}/items/{dans['id']}"), 204)
    expect(await bob.delete(item_path), 204)
    assert (await bob.delete(item_path)).status_code == 404
    assert expect(await cat.get(path), 200)["item_count"] == 0
    expect(await ann.delete(path), 204)
    assert (await bob.get(path)).status_code == 404

    frames = [f for f, _ in await logged_events(app, "album.updated")]
    assert [(f["change"], f["item_id"]) for f in frames] == [
        ("created", None),
        ("item_added", cats["id"]),
        ("item_added", dans["id"]),
        ("caption_edited", cats["id"]),
        ("caption_edited", cats["id"]),
        ("caption_edited", cats["id"]),
        ("renamed", None),
        ("item_removed", dans["id"]),
        ("item_removed", cats["id"]),
        ("deleted", None),
    ]
    assert frames[-1]["album"]["title"] == "Ours"
    assert [f["album"]["item_count"] for f in frames[1:3]] == [1, 2]
