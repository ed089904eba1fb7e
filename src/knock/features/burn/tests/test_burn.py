"""Burn after reading: sealed until opened, a timer per reader, then purged for good."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import time_machine
import websockets
from sqlalchemy import text

from knock.core.clock import utcnow
from knock.features.burn.purge import purge_expired_burn_messages
from knock.features.media.tests import corpus
from knock.features.media.tests.stores import stored_files
from knock.features.media.tests.test_uploads import upload
from knock.tables import metadata
from knock.testing import (
    create_group,
    expect,
    logged_events,
    team,
)


@pytest.fixture
def settings_overrides(media_url: str) -> dict[str, Any]:
    # Every test here runs with media on local disk and on S3.
    return {"media_url": media_url}


def burn_body(**extra: Any) -> dict[str, Any]:
    return {"client_msg_id": uuid.uuid4().hex, "burn_after_s": 10, **extra}


async def purge(app: Any) -> int:
    node = app.state.node
    return await purge_expired_burn_messages(node.db, node.media)


async def test_recipients_see_a_sealed_message_until_they_open_it(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    group = await create_group(ann, org_id, bob, cat)
    for bad in (4, 301):
        sent = await ann.post(
            f"/conversations/{group}/messages", burn_body(text="x", burn_after_s=bad)
        )
        assert sent.status_code == 422
    start = utcnow()
    with time_machine.travel(start, tick=False):
        photo = expect(await upload(ann, corpus.png(), "p.png", "image/png"), 201)
        sent = expect(
            await ann.post(
                f"/conversations/{group}/messages",
                burn_body(text="meet at 6", type="image", media_ids=[photo["id"]]),
            ),
            201,
        )
        assert (sent["text"], sent["burn_after_s"], sent["burned"]) == ("meet at 6", 10, False)
        assert sent["media"][0]["id"] == photo["id"]
        sealed = expect(await bob.get(f"/messages/{sent['id']}"), 200)
        assert (sealed["text"], sealed["media"], sealed["burned"]) == ("", [], False)
        assert (sealed["burn_after_s"], sealed["burn_expires_at"]) == (10, None)
        page = expect(await bob.get(f"/conversations/{group}/messages"), 200)
        assert page["items"][-1] == {**sealed, "unread_count": None}
        listed = expect(await cat.get("/conversations"), 200)["items"][0]["last_message"]
        assert (listed["id"], listed["text"], listed["media"]) == (sent["id"], "", [])
        (event,) = [f for f, _ in await logged_events(app, "message.created")]
        assert (event["message"]["text"], event["message"]["media"]) == ("", [])
        assert (await bob.get(f"/media/{photo['id']}")).status_code == 404
        # The sender keeps their copy; nobody may quote or edit it.
        assert expect(await ann.get(f"/messages/{sent['id']}"), 200)["text"] == "meet at 6"
        quote = {"client_msg_id": "q", "text": "ok", "reply_to_id": sent["id"]}
        assert (await bob.post(f"/conversations/{group}/messages", quote)).status_code == 422
        assert (await ann.patch(f"/messages/{sent['id']}", {"text": "later"})).status_code == 422

        opened = expect(await bob.post(f"/messages/{sent['id']}/open"), 200)
        assert (opened["text"], opened["media"]) == ("meet at 6", sent["media"])
        assert opened["burn_expires_at"] is not None
        assert (await bob.get(f"/media/{photo['id']}")).status_code == 200
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        again = expect(await bob.post(f"/messages/{sent['id']}/open"), 200)
        assert again["burn_expires_at"] == opened["burn_expires_at"]  # one timer per reader
        assert expect(await bob.get(f"/messages/{sent['id']}"), 200)["text"] == "meet at 6"
    with time_machine.travel(start + timedelta(seconds=11), tick=False):
        # Bob's copy burned; Cat has not opened hers, so the content stays for now.
        for burned in (
            expect(await bob.get(f"/messages/{sent['id']}"), 200),
            expect(await bob.post(f"/messages/{sent['id']}/open"), 200),
        ):
            assert (burned["text"], burned["media"], burned["burned"]) == ("", [], True)
        assert (await bob.get(f"/media/{photo['id']}")).status_code == 404
        assert await purge(app) == 0
        assert expect(await ann.get(f"/messages/{sent['id']}"), 200)["text"] == "meet at 6"
        expect(await cat.post(f"/messages/{sent['id']}/open"), 200)
    with time_machine.travel(start + timedelta(seconds=22), tick=False):
        assert await purge(app) == 1
        for who in (ann, bob, cat):
            gone = expect(await who.get(f"/messages/{sent['id']}"), 200)
            assert (gone["text"], gone["media"], gone["burned"]) == ("", [], True), who.display_name
        assert (await ann.get(f"/media/{photo['id']}")).status_code == 404
        # A retry of the original send answers the burned message, not a conflict.
        (burned_event,) = [f for f, _ in await logged_events(app, "message.burned")]
        assert burned_event == {
            "cursor": burned_event["cursor"],
            "type": "message.burned",
            "conversation_id": group,
            "message_id": sent["id"],
        }
        (created,) = [f for f, _ in await logged_events(app, "message.created")]
        assert created["message"]["burned"] is True
        assert await purge(app) == 0


async def test_a_never_opened_message_burns_at_the_hard_limit(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    body = burn_body(text="unread secret", burn_after_s=300)
    sent = expect(await ann.post(f"/conversations/{group}/messages", body), 201)
    max_age = app.state.node.settings.burn_max_age_s
    with time_machine.travel(utcnow() + timedelta(seconds=max_age - 60), tick=False):
        assert await purge(app) == 0
        # Opened just before the limit: the timer stops at the limit.
        opened = expect(await bob.post(f"/messages/{sent['id']}/open"), 200)
        assert opened["text"] == "unread secret"
    with time_machine.travel(utcnow() + timedelta(seconds=max_age + 1), tick=False):
        assert expect(await ann.get(f"/messages/{sent['id']}"), 200)["burned"] is True
        assert await purge(app) == 1
        retry = expect(await ann.post(f"/conversations/{group}/messages", body), 200)
        assert (retry["id"], retry["text"], retry["burned"]) == (sent["id"], "", True)


def _sqlite_files(path: Path, purged: bool) -> bytes:
    wal = path.with_name(path.name + "-wal")
    if purged:
        assert not wal.exists() or wal.stat().st_size == 0, "the WAL was not truncated"
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def _frames_until(sock: Any, wanted: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["type"] != wanted:
        frame = orjson.loads(await asyncio.wait_for(sock.recv(), 10))
        if frame["type"] != "ping":
            seen.append(frame)
    return seen


async def test_devices_get_the_sealed_frame_live_and_the_burn_on_resume(
    app: Any, http: httpx.AsyncClient, live: str
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    url = f"ws://{live}/api/v1/ws?token={bob.token}"
    async with websockets.connect(url) as sock:
        (ready,) = await _frames_until(sock, "ready")
        body = burn_body(text="whisper", burn_after_s=5)
        sent = expect(await ann.post(f"/conversations/{group}/messages", body), 201)
        created = (await _frames_until(sock, "message.created"))[-1]
        assert created["message"]["id"] == sent["id"]
        assert (created["message"]["text"], created["message"]["burn_after_s"]) == ("", 5)
    expect(await bob.post(f"/messages/{sent['id']}/open"), 200)
    with time_machine.travel(utcnow() + timedelta(seconds=6), tick=False):
        assert await purge(app) == 1
    # An offline device resuming from before the message gets its burned frame, then the burn.
    async with websockets.connect(f"{url}&cursor={ready['cursor']}") as sock:
        frames = [f for f in await _frames_until(sock, "ready") if f["type"] != "ready"]
    assert [f["type"] for f in frames] == ["message.created", "message.burned"]
    assert (frames[0]["message"]["text"], frames[0]["message"]["burned"]) == ("", True)
    assert frames[1]["message_id"] == sent["id"]


async def _database_dump(app: Any, database_url: str, *, purged: bool = True) -> bytes:
    """Everything the database holds, as bytes: the SQLite files as they are on disk, or
    every row of every PostgreSQL table cast to text (and the event frames' bytes)."""
    if database_url.startswith("sqlite"):
        return _sqlite_files(Path(database_url.split("///", 1)[1]), purged)
    dump = b""
    async with app.state.node.db.read() as session:
        for table in metadata.sorted_tables:
            rows = await session.execute(text(f'SELECT t::text FROM "{table.name}" t'))  # noqa: S608
            dump += "\n".join(row[0] for row in rows).encode()
        frames = await session.execute(text("SELECT frame FROM events"))
        dump += b"\n".join(bytes(row[0]) for row in frames)
    return dump


def _files_under(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def test_the_canary_is_gone_from_database_wal_and_disk_after_the_purge(
    app: Any, http: httpx.AsyncClient, database_url: str
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    dm = expect(
        await ann.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [bob.id]}),
        201,
    )["id"]
    canary = f"canary-{uuid.uuid4().hex}"
    photo = expect(await upload(ann, corpus.png((33, 17)), "c.png", "image/png"), 201)
    stored_image = (await ann.get(f"/media/{photo['id']}")).content
    sent = expect(
        await ann.post(
            f"/conversations/{dm}/messages",
            burn_body(text=canary, type="image", media_ids=[photo["id"]], burn_after_s=5),
        ),
        201,
    )
    assert any(stored_image in data for data in stored_files(app).values())
    assert expect(await bob.post(f"/messages/{sent['id']}/open"), 200)["text"] == canary
    # The check can see it: before the purge the canary is there.
    assert canary.encode() in await _database_dump(app, database_url, purged=False)
    with time_machine.travel(utcnow() + timedelta(seconds=6), tick=False):
        assert await purge(app) == 1
    dump = await _database_dump(app, database_url)
    assert canary.encode() not in dump
    assert canary.encode().hex().encode() not in dump  # bytea as text is hex
    # Gone from the store: the media directory, or the S3 bucket (listed, not guessed).
    files = stored_files(app)
    assert files == {}, f"left in the media store: {list(files)}"
    for data in _files_under(app.state.node.settings.data_dir).values():
        assert canary.encode() not in data and stored_image not in data
