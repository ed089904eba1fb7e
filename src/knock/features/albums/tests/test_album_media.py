"""The files of album items: who may fetch them, and that they live exactly as long as
something (a message or an album item) holds them. On the local store and on S3."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine

from knock.core.clock import utcnow
from knock.features.albums.tests.test_albums import add, photo, recording, send
from knock.features.burn.purge import purge_expired_burn_messages
from knock.features.media.tests.stores import stored_files
from knock.testing import create_group, expect, logged_events, team


@pytest.fixture
def settings_overrides(media_url: str) -> dict[str, Any]:
    return {"media_url": media_url}


async def sweep_later(app: Any) -> int:
    """One pass of the sweeper of unsent uploads, run after their TTL has passed."""
    ttl = app.state.node.settings.media_unsent_ttl_s
    with time_machine.travel(utcnow() + timedelta(seconds=ttl + 1), tick=False):
        swept: int = await app.state.node.media.do_purge_unsent()
    return swept


async def test_an_upload_in_an_album_stays_until_no_item_holds_it(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    first = expect(await ann.post(f"/orgs/{org_id}/albums", {"title": "One"}), 201)
    second = expect(await ann.post(f"/orgs/{org_id}/albums", {"title": "Two"}), 201)
    image, voice = await photo(ann), await recording(ann)
    in_first = expect(await add(ann, first["id"], media_id=image, voice_media_id=voice["id"]), 201)
    in_second = expect(await add(ann, second["id"], media_id=image), 201)
    abandoned = await photo(ann)

    # Only the upload nothing holds is swept.
    assert await sweep_later(app) == 1
    assert abandoned not in stored_files(app)
    assert {image, voice["id"]} <= set(stored_files(app))

    # Out of one album, still in the other: kept, and Bob still sees it there.
    expect(await ann.delete(f"/albums/{first['id']}/items/{in_first['id']}"), 204)
    assert await sweep_later(app) == 1  # the recording: nothing holds it now
    assert (await bob.get(f"/media/{voice['id']}")).status_code == 404
    assert (await bob.get(f"/media/{image}")).status_code == 200
    assert image in stored_files(app) and voice["id"] not in stored_files(app)

    # The last album holding it goes: the file goes with the next sweep.
    expect(await ann.delete(f"/albums/{second['id']}"), 204)
    assert (await bob.get(f"/media/{image}")).status_code == 404
    assert await sweep_later(app) == 1
    assert (await ann.get(f"/media/{image}")).status_code == 404
    assert set(stored_files(app)) & {image, image + ".thumb"} == set()
    assert in_second["media_id"] == image


async def test_a_message_photo_outlives_its_album_item_and_a_recall_takes_it_from_albums(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob)
    album = expect(await cat.post(f"/orgs/{org_id}/albums", {"title": "Team"}), 201)
    kept = await send(ann, group, type="image", media_ids=[await photo(ann)])
    kept_id = kept["media"][0]["id"]
    item = expect(await add(bob, album["id"], message_id=kept["id"]), 201)
    again = expect(await add(ann, album["id"], message_id=kept["id"]), 201)
    assert (await cat.get(f"/media/{kept_id}")).status_code == 200

    # Taking the items out (and deleting the album) leaves the message's file alone.
    expect(await cat.delete(f"/albums/{album['id']}/items/{item['id']}"), 204)
    expect(await cat.delete(f"/albums/{album['id']}"), 204)
    assert await sweep_later(app) == 0
    assert (await bob.get(f"/media/{kept_id}")).status_code == 200
    assert (await cat.get(f"/media/{kept_id}")).status_code == 404
    assert again["media_id"] == kept_id

    # A recalled message's photo leaves every album with its file.
    other = expect(await cat.post(f"/orgs/{org_id}/albums", {"title": "Again"}), 201)
    sent = await send(ann, group, type="image", media_ids=[await photo(ann)])
    sent_id = sent["media"][0]["id"]
    taken = expect(await add(bob, other["id"], message_id=sent["id"]), 201)
    expect(await ann.post(f"/messages/{sent['id']}/recall"), 200)
    (removed,) = [
        f for f, _ in await logged_events(app, "album.updated") if f["change"] == "item_removed"
    ][-1:]
    assert (removed["item_id"], removed["album"]["id"]) == (taken["id"], other["id"])
    assert removed["album"]["item_count"] == 0
    assert expect(await cat.get(f"/albums/{other['id']}"), 200)["item_count"] == 0
    assert expect(await cat.get(f"/albums/{other['id']}/items"), 200)["items"] == []
    assert (await cat.get(f"/media/{sent_id}")).status_code == 404
    assert sent_id not in stored_files(app)


async def test_leaving_the_conversation_or_team_ends_access_to_its_album_files(
    http: httpx.AsyncClient,
) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob, cat)
    trip = expect(
        await ann.post(f"/orgs/{org_id}/albums", {"title": "Trip", "conversation_id": group}),
        201,
    )
    team_album = expect(await ann.post(f"/orgs/{org_id}/albums", {"title": "All"}), 201)
    in_trip = await photo(ann)
    in_team = await photo(ann)
    expect(await add(ann, trip["id"], media_id=in_trip), 201)
    expect(await add(ann, team_album["id"], media_id=in_team), 201)
    for media_id in (in_trip, in_team):
        assert (await bob.get(f"/media/{media_id}")).status_code == 200
        assert (await cat.get(f"/media/{media_id}")).status_code == 200

    expect(await ann.delete(f"/conversations/{group}/members/{bob.id}"), 204)
    assert (await bob.get(f"/media/{in_trip}")).status_code == 404
    assert (await bob.get(f"/albums/{trip['id']}")).status_code == 404
    assert (await bob.get(f"/media/{in_team}")).status_code == 200
    expect(await ann.delete(f"/orgs/{org_id}/members/{cat.id}"), 204)
    for media_id in (in_trip, in_team):
        assert (await cat.get(f"/media/{media_id}")).status_code == 404


async def test_burn_content_never_reaches_an_album_and_the_purge_leaves_none(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    dm = expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        201,
    )["id"]
    album = expect(
        await ann.post(f"/orgs/{org_id}/albums", {"title": "Us", "conversation_id": dm}), 201
    )
    secret = await photo(ann, (33, 17))
    burn = await send(ann, dm, text="canary", type="image", media_ids=[secret], burn_after_s=5)
    expect(await bob.post(f"/messages/{burn['id']}/open"), 200)
    for who in (ann, bob):
        refused = await add(who, album["id"], message_id=burn["id"])
        assert refused.json()["error"]["code"] == "burn_message"
    # Nor as the upload it was: it is in a message now.
    assert (await add(ann, album["id"], media_id=secret)).status_code == 409
    # An upload already in an album cannot become burn content either.
    held = await photo(ann)
    expect(await add(ann, album["id"], media_id=held), 201)
    refused = await ann.post(
        f"/conversations/{dm}/messages",
        {
            "client_msg_id": uuid.uuid4().hex,
            "text": "",
            "type": "image",
            "media_ids": [held],
            "burn_after_s": 5,
        },
    )
    assert refused.json()["error"]["code"] == "media_in_use"

    node = app.state.node
    with time_machine.travel(utcnow() + timedelta(seconds=6), tick=False):
        assert await purge_expired_burn_messages(node.db, node.media) == 1
    items = expect(await bob.get(f"/albums/{album['id']}/items"), 200)["items"]
    assert [i["media_id"] for i in items] == [held]
    assert secret not in stored_files(app) and held in stored_files(app)
    added = [f for f, _ in await logged_events(app, "album.updated") if f["change"] == "item_added"]
    assert [f["item_id"] for f in added] == [items[0]["id"]]
