"""Who may fetch a file, how it is served, and media messages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine

from knock.core.clock import utcnow
from knock.features.media.tests import corpus
from knock.features.media.tests.stores import stored_files
from knock.features.media.tests.test_uploads import upload
from knock.testing import (
    Member,
    create_group,
    expect,
    logged_events,
    team,
)


@pytest.fixture
def settings_overrides(media_url: str) -> dict[str, Any]:
    # Every test here runs on the local store and on S3.
    return {"media_url": media_url}


async def send(who: Member, conversation_id: str, **body: Any) -> httpx.Response:
    return await who.post(
        f"/conversations/{conversation_id}/messages",
        {"client_msg_id": uuid.uuid4().hex, **body},
    )


async def ranged(who: Member, media_id: str, spec: str) -> httpx.Response:
    return await who.http.get(f"/media/{media_id}", headers={**who.auth, "Range": spec})


async def test_media_is_seen_only_by_its_uploader_then_by_the_conversation(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob, eve) = await team(http, "Ann", "Bob", "Eve")
    group = await create_group(ann, org_id, bob)
    photo = expect(await upload(ann, corpus.png(), "p.png", "image/png"), 201)
    voice = expect(await upload(ann, corpus.wav(1.0), "v.wav", "audio/wav"), 201)
    missing = await bob.get(f"/media/{'0' * 26}")
    assert missing.status_code == 404
    # Before it is sent, only the uploader may fetch it.
    assert (await ann.get(f"/media/{photo['id']}")).status_code == 200
    for who in (bob, eve):
        response = await who.get(f"/media/{photo['id']}")
        assert (response.status_code, response.content) == (404, missing.content)

    message = expect(
        await send(
            ann, group, type="voice_photo", text="listen", media_ids=[voice["id"], photo["id"]]
        ),
        201,
    )
    assert [m["id"] for m in message["media"]] == [photo["id"], voice["id"]]  # image first
    assert message["media"][1]["waveform"] and len(message["media"][1]["waveform"]) == 64
    assert message["text"] == "listen"
    (created,) = [
        f
        for f, _ in await logged_events(app, "message.created")
        if f["message"]["id"] == message["id"]
    ]
    assert created["message"]["media"] == message["media"]

    # Members may fetch it now; a non-member gets the 404 of a missing id.
    got = await bob.get(f"/media/{photo['id']}")
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == f'inline; filename="{photo["id"]}.png"'
    assert "default-src 'self'" in got.headers["content-security-policy"]
    for media_id in (photo["id"], voice["id"]):
        response = await eve.get(f"/media/{media_id}")
        assert (response.status_code, response.content) == (404, missing.content)
        assert (await eve.get(f"/media/{media_id}", params={"thumb": 1})).status_code == 404
    assert (await bob.get(f"/media/{voice['id']}", params={"thumb": 1})).status_code == 404

    # Audio answers byte ranges.
    whole = (await bob.get(f"/media/{voice['id']}")).content
    assert len(whole) == voice["size"]
    part = await ranged(bob, voice["id"], "bytes=10-19")
    assert part.status_code == 206 and part.content == whole[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{voice['size']}"
    tail = await ranged(bob, voice["id"], "bytes=-5")
    assert tail.status_code == 206 and tail.content == whole[-5:]
    bad = await ranged(bob, voice["id"], f"bytes={voice['size']}-")
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{voice['size']}"
    assert bad.json()["error"]["code"] == "range_not_satisfiable"

    # History carries the media too.
    page = expect(await bob.get(f"/conversations/{group}/messages"), 200)
    assert page["items"][-1]["media"] == message["media"]


async def test_media_messages_need_the_right_files(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    photo = expect(await upload(ann, corpus.png(), "p.png", "image/png"), 201)
    voice = expect(await upload(ann, corpus.wav(0.5), "v.wav", "audio/wav"), 201)
    bobs = expect(await upload(bob, corpus.png(), "p.png", "image/png"), 201)
    wrong = [
        {"type": "image", "media_ids": []},
        {"type": "image", "media_ids": [voice["id"]]},
        {"type": "voice", "media_ids": [photo["id"]]},
        {"type": "voice_photo", "media_ids": [photo["id"]]},
        {"type": "voice_photo", "media_ids": [photo["id"], photo["id"]]},
        {"type": "image", "media_ids": [bobs["id"]]},  # someone else's upload
        {"type": "image", "media_ids": ["0" * 26]},
        {"type": "text", "text": "hi", "media_ids": [photo["id"]]},
        {"type": "text"},  # a text message needs text
        {"type": "sticker", "media_ids": [photo["id"]]},
    ]
    for body in wrong:
        assert (await send(ann, group, **body)).status_code == 422, body

    # A caption is optional; an upload goes into one message only.
    key = uuid.uuid4().hex
    body = {"client_msg_id": key, "type": "image", "media_ids": [photo["id"]]}
    first = expect(await ann.post(f"/conversations/{group}/messages", body), 201)
    assert (first["text"], first["type"]) == ("", "image")
    again = expect(await ann.post(f"/conversations/{group}/messages", body), 200)
    assert again["id"] == first["id"] and again["media"] == first["media"]
    other = {**body, "media_ids": [bobs["id"]]}
    assert (await ann.post(f"/conversations/{group}/messages", other)).status_code == 409
    reused = await send(ann, group, type="image", media_ids=[photo["id"]])
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "media_in_use")

    voice_message = expect(await send(ann, group, type="voice", media_ids=[voice["id"]]), 201)
    assert voice_message["media"][0]["duration_ms"] == 500

    # Recalling takes the files away.
    assert photo["id"] in stored_files(app)
    recalled = expect(await ann.post(f"/messages/{first['id']}/recall"), 200)
    assert recalled["media"] == []
    assert photo["id"] not in stored_files(app)
    assert (await bob.get(f"/media/{photo['id']}")).status_code == 404
    assert (await ann.get(f"/media/{photo['id']}")).status_code == 404


async def test_uploads_never_sent_are_deleted_after_the_ttl(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    unsent = expect(await upload(ann, corpus.png(), "p.png", "image/png"), 201)
    sent = expect(await upload(ann, corpus.png(), "q.png", "image/png"), 201)
    expect(await send(ann, group, type="image", media_ids=[sent["id"]]), 201)
    library = app.state.node.media
    assert await library.do_purge_unsent() == 0
    ttl = app.state.node.settings.media_unsent_ttl_s
    with time_machine.travel(utcnow() + timedelta(seconds=ttl + 1), tick=False):
        assert await library.do_purge_unsent() == 1
    assert (await ann.get(f"/media/{unsent['id']}")).status_code == 404
    assert (await bob.get(f"/media/{sent['id']}")).status_code == 200
    assert set(stored_files(app)) == {sent["id"], sent["id"] + ".thumb"}
