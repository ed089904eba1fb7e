"""Albums per team and items per album are bounded (KNOCK_ALBUM_*), with a clear 409."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from knock.features.albums.tests.test_albums import add, photo
from knock.testing import create_group, expect, team


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"album_max_per_org": 2, "album_max_items": 2}


async def test_a_team_has_at_most_so_many_albums_and_an_album_so_many_items(
    http: httpx.AsyncClient,
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    first = expect(await ann.post(f"/orgs/{org_id}/albums", {"title": "One"}), 201)
    body = {"title": "Two", "conversation_id": group}
    expect(await bob.post(f"/orgs/{org_id}/albums", body), 201)
    # Team and conversation albums count together.
    full = await bob.post(f"/orgs/{org_id}/albums", {"title": "Three"})
    assert (full.status_code, full.json()["error"]["code"]) == (409, "album_limit_reached")
    assert "at most 2 albums" in full.json()["error"]["message"]
    # Another team has its own allowance.
    other_org, (eve,) = await team(http, "Eve")
    expect(await eve.post(f"/orgs/{other_org}/albums", {"title": "Mine"}), 201)

    kept = {"client_item_id": "k", "media_id": await photo(ann)}
    item = expect(await ann.post(f"/albums/{first['id']}/items", kept), 201)
    expect(await add(bob, first["id"], media_id=await photo(bob)), 201)
    refused = await add(bob, first["id"], media_id=await photo(bob))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "album_full")
    # A retry of an item already in is still answered, full or not.
    assert expect(await ann.post(f"/albums/{first['id']}/items", kept), 200) == item
    items = expect(await ann.get(f"/albums/{first['id']}/items"), 200)["items"]
    assert len(items) == 2
    # Deleting an album frees its place.
    expect(await ann.delete(f"/albums/{first['id']}"), 204)
    expect(await bob.post(f"/orgs/{org_id}/albums", {"title": "Three"}), 201)
