"""The WebSocket gateway on a real server: handshake, replay, resume, heartbeats, limits."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from knock.realtime.eventlog import prune_events_txn
from knock.testing import expect, register

from .conftest import WsOpener, emit_probes


async def frames_until(ws: ClientConnection, predicate: Any, limit: int = 10_000) -> list[Any]:
    """Read frames until one matches; returns all read (pings skipped)."""
    seen = []
    for _ in range(limit):
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] == "ping":
            continue
        seen.append(frame)
        if predicate(frame):
            return seen
    raise AssertionError(f"no matching frame in {seen[-5:]}")


def probes(frames: list[Any]) -> list[int]:
    return [f["n"] for f in frames if f["type"] == "test.probe"]


@pytest.mark.parametrize("token", [None, "", "nonsense"])
async def test_bad_token_is_refused_with_401(ws: WsOpener, token: str | None) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with ws(token):
            pass
    assert refused.value.response.status_code == 401
    assert orjson.loads(refused.value.response.body)["error"]["code"] == "unauthorized"


async def test_foreign_origin_is_refused_with_403(
    ws: WsOpener, http: httpx.AsyncClient, live: str
) -> None:
    member = await register(http)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with ws(member.token, origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with ws(member.token, origin=f"http://{live}") as same_origin:
        assert orjson.loads(await same_origin.recv())["type"] == "ready"
    async with ws(member.token) as native_app:  # no Origin at all
        assert orjson.loads(await native_app.recv())["type"] == "ready"


async def test_live_events_then_resume_from_cursor_exactly_once(
    app: Any, ws: WsOpener, http: httpx.AsyncClient
) -> None:
    member = await register(http)
    other = await register(http)
    async with ws(member.token) as sock:
        ready = orjson.loads(await sock.recv())
        assert ready["type"] == "ready"
        await emit_probes(app, member.id, range(5))
        await emit_probes(app, other.id, range(100, 103))  # not for this member
        frames = await frames_until(sock, lambda f: f.get("n") == 4)
        assert probes(frames) == [0, 1, 2, 3, 4]
        cursors = [int(f["cursor"]) for f in frames]
        assert cursors == sorted(cursors)
        last_cursor = frames[-1]["cursor"]
    await emit_probes(app, member.id, range(5, 12))
    async with ws(member.token, cursor=last_cursor) as sock:
        frames = await frames_until(sock, lambda f: f["type"] == "ready")
        assert probes(frames) == list(range(5, 12))
        await emit_probes(app, member.id, range(12, 14))
        frames = await frames_until(sock, lambda f: f.get("n") == 13)
        assert probes(frames) == [12, 13]


async def test_resume_during_a_burst_loses_and_repeats_nothing(
    app: Any, ws: WsOpener, http: httpx.AsyncClient
) -> None:
    member = await register(http)
    async with ws(member.token) as sock:  # a client without a cursor starts from now
        cursor: str | None = (await frames_until(sock, lambda f: f["type"] == "ready"))[-1][
            "cursor"
        ]
    burst = asyncio.create_task(emit_probes(app, member.id, range(300)))
    received: list[int] = []
    while len(received) < 300:
        async with ws(member.token, cursor=cursor) as sock:
            for _ in range(37):  # drop the socket every 37 frames, mid-burst
                frame = orjson.loads(await asyncio.wait_for(sock.recv(), 10))
                if frame["type"] == "test.probe":
                    received.append(frame["n"])
                    cursor = frame["cursor"]
                elif frame["type"] == "ready":
                    cursor = frame["cursor"]
                if len(received) == 300:
                    break
    await burst
    assert received == list(range(300))


async def test_too_old_cursor_gets_resync_required(
    app: Any, ws: WsOpener, http: httpx.AsyncClient
) -> None:
    member = await register(http)
    await emit_probes(app, member.id, range(3))
    async with app.state.node.db.transaction() as txn:
        await prune_events_txn(txn.session, app.state.node.pump.delivered_upto)
    async with ws(member.token, cursor="1") as sock:
        first = orjson.loads(await sock.recv())
        assert first["type"] == "resync_required"
        assert int(first["cursor"]) >= 3
        await emit_probes(app, member.id, range(3, 4))
        frames = await frames_until(sock, lambda f: f["type"] == "test.probe")
        assert probes(frames) == [3]
    for bad in ("abc", "-1", "999999999"):
        async with ws(member.token, cursor=bad) as sock:
            assert orjson.loads(await sock.recv())["type"] == "resync_required"


async def test_client_ping_gets_pong(ws: WsOpener, http: httpx.AsyncClient) -> None:
    member = await register(http)
    async with ws(member.token) as sock:
        await frames_until(sock, lambda f: f["type"] == "ready")
        await sock.send('{"type":"ping"}')
        await frames_until(sock, lambda f: f["type"] == "pong")


async def test_logout_closes_that_sessions_sockets_with_4001(
    ws: WsOpener, http: httpx.AsyncClient
) -> None:
    member = await register(http)
    login = expect(
        await http.post(
            "/auth/login", json={"email": member.email, "password": "correct horse battery"}
        ),
        200,
    )
    async with ws(member.token) as ended, ws(login["token"]) as kept:
        await frames_until(ended, lambda f: f["type"] == "ready")
        await frames_until(kept, lambda f: f["type"] == "ready")
        expect(await member.post("/auth/logout"), 204)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await frames_until(ended, lambda f: False)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
        await kept.send('{"type":"ping"}')
        await frames_until(kept, lambda f: f["type"] == "pong")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ws_send_queue": 16}


async def test_a_client_that_does_not_read_is_closed_with_1013(
    app: Any, ws: WsOpener, http: httpx.AsyncClient
) -> None:
    member = await register(http)
    registry = app.state.node.registry
    async with ws(member.token, max_queue=1, max_size=None, compression=None) as sock:
        await frames_until(sock, lambda f: f["type"] == "ready")
        # Never read: the client's buffer, then TCP, then the server's queue of 16 fill up.
        # Kernel socket buffers on loopback take megabytes, so send until the server gives
        # up on the client (bounded: at most 2,000 frames of 64 KB).
        pad = secrets.token_urlsafe(49_152)
        for batch in range(40):
            await emit_probes(app, member.id, range(batch * 50, batch * 50 + 50), pad=pad)
            await asyncio.sleep(0.05)
            if len(registry) == 0:
                break
        assert len(registry) == 0, "the slow connection is still registered"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(sock.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013


async def test_a_big_groups_last_member_is_subscribed_though_the_frame_lists_100(
    app: Any, ws: WsOpener, http: httpx.AsyncClient
) -> None:
    from knock.testing import add_people, create_org, send_text

    owner = await register(http)
    org = await create_org(owner)
    people = await add_people(http, app, org, 150)
    last = people[-1]
    async with ws(last.token) as sock:
        await frames_until(sock, lambda f: f["type"] == "ready")
        body = {"kind": "group", "title": "All hands", "member_ids": [p.id for p in people]}
        group = expect(await owner.post(f"/orgs/{org}/conversations", body), 201)["id"]
        created = (await frames_until(sock, lambda f: f["type"] == "conversation.created"))[-1]
        assert created["conversation"]["member_count"] == 151
        assert len(created["member_ids"]) == 100
        assert last.id not in created["member_ids"]
        sent = await send_text(owner, group, "welcome")
        message = (await frames_until(sock, lambda f: f["type"] == "message.created"))[-1]
        assert message["message"]["id"] == sent["id"]


async def test_a_recalled_message_is_recalled_in_the_log_too(
    ws: WsOpener, http: httpx.AsyncClient
) -> None:
    from knock.testing import create_group, create_org, join_org, send_text

    ann, bob = await register(http), await register(http)
    org = await create_org(ann)
    await join_org(ann, org, bob)
    group = await create_group(ann, org, bob)
    async with ws(bob.token) as sock:
        cursor = (await frames_until(sock, lambda f: f["type"] == "ready"))[-1]["cursor"]
    secret = await send_text(ann, group, "the original words")
    expect(await ann.patch(f"/messages/{secret['id']}", {"text": "edited words"}), 200)
    expect(await ann.post(f"/messages/{secret['id']}/recall"), 200)
    async with ws(bob.token, cursor=cursor) as sock:
        replayed = await frames_until(sock, lambda f: f["type"] == "ready")
    about = [f["message"] for f in replayed if f["type"].startswith("message.")]
    assert [m["id"] for m in about] == [secret["id"]] * 3
    assert all(m["recalled"] and m["text"] == "" for m in about)
    assert "words" not in str(replayed)


async def test_an_open_socket_costs_no_task_on_knocks_protocol(
    app: Any, ws: WsOpener, http: httpx.AsyncClient, request: pytest.FixtureRequest
) -> None:
    """On Knock's protocol a live socket is served by callbacks (no task per socket) and
    still counts against the node's connection limit until it closes; under another
    server the endpoint reads and one writer writes. Heartbeats are one timer per node."""
    member = await register(http)
    admission = app.state.admission
    before_tasks, before_open = len(asyncio.all_tasks()), admission.connections
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(10):
            # No client pings: the client then runs no task of its own.
            sock = await stack.enter_async_context(ws(member.token, ping_interval=None))
            await frames_until(sock, lambda f: f["type"] == "ready")
        per_socket = 0 if request.node.callspec.params["live"] == "knock" else 2
        assert len(asyncio.all_tasks()) - before_tasks <= per_socket * 10 + 2
        assert admission.connections - before_open == 10
        await sock.send('{"type":"ping"}')
        await frames_until(sock, lambda f: f["type"] == "pong")
    for _ in range(200):  # the server hears the closes a moment later
        if admission.connections == before_open and len(app.state.node.registry) == 0:
            break
        await asyncio.sleep(0.02)
    assert admission.connections == before_open
    assert len(app.state.node.registry) == 0
