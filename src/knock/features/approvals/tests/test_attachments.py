"""Receipts and other attachments: an approval holds the files its answers name, serves them
to whoever may see it (and to nobody else), and keeps them from the sweeper of unsent uploads
until a resubmission replaces them. On the local store and on S3."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from knock.features.albums.tests.test_album_media import sweep_later
from knock.features.albums.tests.test_albums import photo, recording, send
from knock.features.approvals.tests.test_flows import builtin, company, submit
from knock.features.media.tests.stores import stored_files
from knock.testing import Member, create_group, expect

ITEMS = [{"description": "Taxi", "amount": "23.40"}]


@pytest.fixture
def settings_overrides(media_url: str) -> dict[str, Any]:
    return {"media_url": media_url}


async def claim(member: Member, org_id: str, receipts: list[str]) -> httpx.Response:
    template = await builtin(member, org_id, "expense")
    body = {
        "template_id": template["id"],
        "client_request_id": uuid.uuid4().hex,
        "values": {"items": ITEMS, "receipts": receipts},
    }
    return await member.post(f"/orgs/{org_id}/approvals", body)


async def test_the_approvers_see_the_receipt_and_nobody_else_does(
    app: Any, http: httpx.AsyncClient
) -> None:
    c = await company(http)  # Sam's claim goes to Lee (his head), then the admins (no finance)
    receipt = await photo(c.sam, (64, 48))
    abandoned = await photo(c.sam)
    approval = expect(await claim(c.sam, c.org_id, [receipt, receipt]), 201)
    assert approval["values"]["receipts"] == [receipt]
    original = await c.sam.get(f"/media/{receipt}")
    thumb = await c.sam.get(f"/media/{receipt}?thumb=1")
    assert original.status_code == thumb.status_code == 200

    for allowed in (c.lee, c.ann):  # the approver, and the owner (also the fallback step)
        got = await allowed.get(f"/media/{receipt}")
        assert (got.status_code, got.content) == (200, original.content)
        got = await allowed.get(f"/media/{receipt}?thumb=1")
        assert (got.status_code, got.content) == (200, thumb.content)

    # Vic (the head above, not in this flow) and Otto (outsider): exactly like a missing file.
    missing = await c.outsider.get(f"/media/{'0' * 26}")
    assert missing.status_code == 404
    for outside in (c.vic, c.outsider):
        for query in ("", "?thumb=1"):
            got = await outside.get(f"/media/{receipt}{query}")
            assert (got.status_code, got.content) == (404, missing.content)

    # The sweeper takes the upload nothing holds and spares the receipt.
    assert await sweep_later(app) == 1
    assert abandoned not in stored_files(app)
    assert {receipt, receipt + ".thumb"} <= set(stored_files(app))
    assert (await c.lee.get(f"/media/{receipt}")).content == original.content


async def test_copied_people_see_the_attachments(http: httpx.AsyncClient) -> None:
    c = await company(http)
    form = {
        "name": "Purchase",
        "fields": [{"key": "quote", "label": "Quote", "type": "attachment", "required": True}],
        "flow": {
            "steps": [{"name": "Head", "approvers": {"kind": "dept_head"}}],
            "cc": [{"kind": "users", "user_ids": [c.hana.id]}],
        },
    }
    template = expect(await c.ann.post(f"/orgs/{c.org_id}/approval-templates", form), 201)
    quote = await photo(c.sam)
    await submit(c.sam, c.org_id, template["id"], {"quote": [quote]})
    assert (await c.hana.get(f"/media/{quote}")).status_code == 200
    assert (await c.outsider.get(f"/media/{quote}")).status_code == 404


async def test_only_the_submitters_own_unsent_images_can_be_attached(
    app: Any, http: httpx.AsyncClient
) -> None:
    c = await company(http)
    group = await create_group(c.sam, c.org_id, c.lee)
    theirs = await photo(c.lee)
    voice = (await recording(c.sam))["id"]
    sent = await send(c.sam, group, type="image", media_ids=[await photo(c.sam)])
    mine = await photo(c.sam)
    refused = [
        ([mine, theirs], 422, "values.receipts: no such upload of yours."),
        ([mine, "0" * 26], 422, "values.receipts: no such upload of yours."),
        ([voice], 422, "values.receipts: attachments are images (photos or scans)."),
        ([mine, sent["media"][0]["id"]], 409, "media_in_use"),
    ]
    for receipts, status, said in refused:
        error = (await claim(c.sam, c.org_id, receipts)).json()["error"]
        assert said in (error["message"], error["code"]), error
        got = await claim(c.sam, c.org_id, receipts)
        assert got.status_code == status

    # Nothing half-written: no approval, and `mine` is held by nothing, so it is swept.
    assert expect(await c.sam.get(f"/orgs/{c.org_id}/approvals?box=submitted"), 200)["items"] == []
    assert (await c.lee.get(f"/media/{mine}")).status_code == 404
    assert await sweep_later(app) == 3  # theirs, the recording and mine
    assert mine not in stored_files(app)


async def test_a_held_receipt_cannot_be_sent_in_a_message(http: httpx.AsyncClient) -> None:
    c = await company(http)
    group = await create_group(c.sam, c.org_id, c.lee)
    receipt = await photo(c.sam)
    expect(await claim(c.sam, c.org_id, [receipt]), 201)
    body = {"client_msg_id": uuid.uuid4().hex, "text": "", "type": "image", "media_ids": [receipt]}
    error = expect(await c.sam.post(f"/conversations/{group}/messages", body), 409)
    assert error["error"]["code"] == "media_in_use"
    assert (await c.sam.get(f"/media/{receipt}")).status_code == 200


async def test_resubmitting_with_a_new_receipt_releases_the_old_one(
    app: Any, http: httpx.AsyncClient
) -> None:
    c = await company(http)
    old, kept, new = await photo(c.sam), await photo(c.sam), await photo(c.sam)
    approval = expect(await claim(c.sam, c.org_id, [old, kept]), 201)
    expect(await c.lee.post(f"/approvals/{approval['id']}/reject", {"comment": "Blurry"}), 200)

    # A refused resubmission changes nothing: both files stay held.
    theirs = await photo(c.lee)
    bad = {"values": {"items": ITEMS, "receipts": [new, theirs]}}
    expect(await c.sam.post(f"/approvals/{approval['id']}/resubmit", bad), 422)
    assert (await c.lee.get(f"/media/{old}")).status_code == 200
    assert (await c.lee.get(f"/media/{new}")).status_code == 404

    body = {"values": {"items": ITEMS, "receipts": [kept, new]}}
    again = expect(await c.sam.post(f"/approvals/{approval['id']}/resubmit", body), 200)
    assert (again["round"], again["values"]["receipts"]) == (2, [kept, new])
    for media_id in (kept, new):
        assert (await c.lee.get(f"/media/{media_id}")).status_code == 200
    assert (await c.lee.get(f"/media/{old}")).status_code == 404
    assert (await c.sam.get(f"/media/{old}")).status_code == 200  # unheld: the uploader's alone

    assert await sweep_later(app) == 2  # the replaced receipt and Lee's stray upload
    assert {old, theirs} & set(stored_files(app)) == set()
    assert {kept, new} <= set(stored_files(app))

    # Resubmitting the same values again keeps holding them once, not twice.
    expect(await c.lee.post(f"/approvals/{approval['id']}/reject", {"comment": "No"}), 200)
    expect(await c.sam.post(f"/approvals/{approval['id']}/resubmit", {}), 200)
    expect(await c.lee.post(f"/approvals/{approval['id']}/reject", {"comment": "No"}), 200)
    body = {"values": {"items": ITEMS, "receipts": []}}
    expect(await c.sam.post(f"/approvals/{approval['id']}/resubmit", body), 200)
    assert await sweep_later(app) == 2
    assert {kept, new} & set(stored_files(app)) == set()
