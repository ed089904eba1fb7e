"""Voice conference signalling through the real app: real aiortc peers join over HTTP, and
the call's events arrive over a real WebSocket (on SQLite and PostgreSQL, the in-memory and
the Redis broker)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
import websockets
from sqlalchemy import update

from knock.core.clock import utcnow
from knock.core.ids import new_id
from knock.features.calls.models import Call, CallParticipant
from knock.features.calls.tests.voice_client import VoiceClient
from knock.main import create_app
from knock.testing import Member, create_group, expect, logged_events, team

MAX_PARTICIPANTS = 3


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "call_max_participants": MAX_PARTICIPANTS,
        "call_speaking_interval_ms": 100,
        "rtc_host_addresses": ["127.0.0.1"],
    }


@contextlib.asynccontextmanager
async def clients(*pairs: tuple[Member, float]) -> AsyncIterator[list[VoiceClient]]:
    made = [VoiceClient(member, hz) for member, hz in pairs]
    try:
        yield made
    finally:
        for client in made:
            await client.close()


class Socket:
    """A member's WebSocket, reading call events."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def until(self, done: Callable[[dict[str, Any]], bool], timeout_s: float = 20) -> Any:
        async with asyncio.timeout(timeout_s):
            while True:
                frame = orjson.loads(await self.connection.recv())
                if frame["type"].startswith("call.") and done(frame):
                    return frame


@contextlib.asynccontextmanager
async def socket_of(live: str, member: Member) -> AsyncIterator[Socket]:
    async with websockets.connect(f"ws://{live}/api/v1/ws?token={member.token}") as connection:
        assert orjson.loads(await connection.recv())["type"] == "ready"
        yield Socket(connection)


def present(frame: dict[str, Any]) -> list[str]:
    return [p["user_id"] for p in frame["call"]["participants"]]


async def start(member: Member, conversation_id: str) -> dict[str, Any]:
    call: dict[str, Any] = expect(await member.post(f"/conversations/{conversation_id}/calls"), 201)
    return call


async def test_start_is_one_call_per_conversation_seen_by_members_only(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob, mia) = await team(http, "Ann", "Bob", "Mia")
    group = await create_group(ann, org_id, bob, title="Plans")
    expect(await bob.get(f"/conversations/{group}/call"), 404)

    call = await start(ann, group)
    assert call["status"] == "active" and call["participants"] == []
    assert call["started_by"] == ann.id and call["conversation_id"] == group
    assert call["node_url"] == app.state.node.calls.node.url
    # A second start joins the first: 200 with the same call.
    again = expect(await bob.post(f"/conversations/{group}/calls"), 200)
    assert again["id"] == call["id"]
    assert expect(await bob.get(f"/conversations/{group}/call"), 200)["id"] == call["id"]
    assert expect(await bob.get(f"/calls/{call['id']}"), 200)["id"] == call["id"]

    # Mia is in the team, not in the group: the call does not exist for her.
    for path in (f"/calls/{call['id']}", f"/conversations/{group}/call"):
        assert expect(await mia.get(path), 404) == expect(await mia.get(f"/calls/{new_id()}"), 404)
    expect(await mia.post(f"/conversations/{group}/calls"), 404)
    expect(await mia.post(f"/calls/{call['id']}/end"), 404)

    started = await logged_events(app, "call.started")
    assert [frame["call"]["id"] for frame, _ in started] == [call["id"]]
    assert started[0][1].conversation_id == group


async def test_starts_at_the_same_moment_make_one_call(http: httpx.AsyncClient) -> None:
    org_id, people = await team(http, "Ann", "Bob", "Mia", "Rex")
    group = await create_group(people[0], org_id, *people[1:])
    answers = await asyncio.gather(*[p.post(f"/conversations/{group}/calls") for p in people])
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1


def _without_speaking(call: dict[str, Any]) -> dict[str, Any]:
    """A call as an answer gives it, less what live audio changes from moment to moment."""
    people = [{k: v for k, v in p.items() if k != "speaking"} for p in call["participants"]]
    return {**call, "participants": people}


async def test_join_mute_leave_over_real_peers_and_a_real_websocket(
    app: Any, http: httpx.AsyncClient, live: str, broker_url: str
) -> None:
    org_id, (ann, bob, mia) = await team(http, "Ann", "Bob", "Mia")
    group = await create_group(ann, org_id, bob, mia)
    async with socket_of(live, mia) as watcher, clients((ann, 440), (bob, 660)) as (a, b):
        call = await start(ann, group)
        await watcher.until(lambda f: f["type"] == "call.started")

        joined = await a.join(call["id"])
        assert [p["user_id"] for p in joined["call"]["participants"]] == [ann.id]
        assert "a=candidate" in joined["sdp"] and isinstance(joined["ice_servers"], list)
        await b.join(call["id"])
        frame = await watcher.until(lambda f: present(f) == [ann.id, bob.id])
        assert frame["type"] == "call.updated"
        await a.connected()
        await b.connected()

        muted = expect(await bob.post(f"/calls/{call['id']}/mute", {"muted": True}), 200)
        assert [p["muted"] for p in muted["participants"]] == [False, True]
        await watcher.until(lambda f: any(p["muted"] for p in f["call"]["participants"]))
        expect(await bob.post(f"/calls/{call['id']}/mute", {"muted": False}), 200)
        # Mia is not in the call: she cannot mute herself in it.
        refused = expect(await mia.post(f"/calls/{call['id']}/mute", {"muted": True}), 409)
        assert refused["error"]["code"] == "not_in_call"

        left = expect(await ann.post(f"/calls/{call['id']}/leave"), 200)
        assert left["status"] == "active" and [p["user_id"] for p in left["participants"]] == [
            bob.id
        ]
        await watcher.until(lambda f: present(f) == [bob.id])
        # Leaving again changes nothing (but whether Bob is speaking: his tone plays on,
        # and the mixer's voice detection may flip it between the two answers).
        again = expect(await ann.post(f"/calls/{call['id']}/leave"), 200)
        assert _without_speaking(again) == _without_speaking(left)

        # The last one out ends the call.
        ended = expect(await bob.post(f"/calls/{call['id']}/leave"), 200)
        assert ended["status"] == "ended" and ended["ended_at"] and ended["participants"] == []
        frame = await watcher.until(lambda f: f["type"] == "call.ended")
        assert frame["call"]["id"] == call["id"]
    expect(await ann.get(f"/conversations/{group}/call"), 404)
    assert expect(await ann.get(f"/calls/{call['id']}"), 200)["status"] == "ended"
    assert app.state.node.calls.mixer_participants(call["id"]) == frozenset()
    # An ended call cannot be joined; a new start makes a new call.
    async with clients((mia, 500)) as (m,):
        answer = await mia.post(f"/calls/{call['id']}/join", {"sdp": await m.offer()})
    assert expect(answer, 409)["error"]["code"] == "call_ended"
    assert (await start(mia, group))["id"] != call["id"]


async def test_a_full_call_refuses_one_more(app: Any, http: httpx.AsyncClient) -> None:
    names = [f"P{i}" for i in range(MAX_PARTICIPANTS + 1)]
    org_id, people = await team(http, *names)
    group = await create_group(people[0], org_id, *people[1:])
    call = await start(people[0], group)
    async with clients(*[(p, 300 + 100 * i) for i, p in enumerate(people)]) as devices:
        for device in devices[:MAX_PARTICIPANTS]:
            await device.join(call["id"])
        answer = await people[-1].post(
            f"/calls/{call['id']}/join", {"sdp": await devices[-1].offer()}
        )
        refused = expect(answer, 409)
        assert refused["error"]["code"] == "call_full"
        assert str(MAX_PARTICIPANTS) in refused["error"]["message"]
        assert app.state.node.calls.mixer_participants(call["id"]) == frozenset(
            p.id for p in people[:MAX_PARTICIPANTS]
        )
        # Someone leaves: there is room again.
        expect(await people[0].post(f"/calls/{call['id']}/leave"), 200)
        await devices[-1].join(call["id"])


async def test_bad_offers_are_refused_and_leave_nothing_behind(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    call = await start(ann, group)
    for sdp in ("", "hello", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "x" * 40_000):
        answer = await ann.post(f"/calls/{call['id']}/join", {"sdp": sdp})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "invalid_request"
    # Shaped like an offer, but not one the mixer can answer.
    broken = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
    answer = await ann.post(f"/calls/{call['id']}/join", {"sdp": broken})
    assert answer.status_code == 422, answer.text
    assert expect(await ann.get(f"/calls/{call['id']}"), 200)["participants"] == []
    assert app.state.node.calls.mixer_participants(call["id"]) == frozenset()


async def test_only_the_starter_the_owner_or_an_admin_end_a_call(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob, mia, rex) = await team(http, "Ann", "Bob", "Mia", "Rex")
    group = await create_group(bob, org_id, ann, mia, rex)  # Bob owns the group, Ann the org
    call = await start(mia, group)
    async with clients((mia, 500)) as (m,):
        await m.join(call["id"])
        # Rex is a plain member: he may leave, not end it for everyone.
        refused = expect(await rex.post(f"/calls/{call['id']}/end"), 403)
        assert refused["error"]["code"] == "forbidden"
        ended = expect(await ann.post(f"/calls/{call['id']}/end"), 200)  # an org owner
        assert ended["status"] == "ended" and ended["participants"] == []
        assert expect(await rex.post(f"/calls/{call['id']}/end"), 200) == ended
    assert app.state.node.calls.mixer_participants(call["id"]) == frozenset()
    second = await start(rex, group)
    assert expect(await bob.post(f"/calls/{second['id']}/end"), 200)["status"] == "ended"
    third = await start(rex, group)
    assert expect(await rex.post(f"/calls/{third['id']}/end"), 200)["status"] == "ended"
    ended_ids = [f["call"]["id"] for f, _ in await logged_events(app, "call.ended")]
    assert ended_ids == [call["id"], second["id"], third["id"]]


async def test_a_join_on_another_node_says_where_the_call_is(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    call = await start(ann, group)
    async with app.state.node.db.transaction() as txn:
        await txn.session.execute(
            update(Call)
            .where(Call.id == call["id"])
            .values(node_id="elsewhere", node_url="https://node-b.example.com")
        )
    async with clients((bob, 500)) as (b,):
        answer = await bob.post(f"/calls/{call['id']}/join", {"sdp": await b.offer()})
    refused = expect(answer, 409)
    assert refused["error"]["code"] == "call_on_other_node"
    assert "https://node-b.example.com" in refused["error"]["message"]
    assert expect(await bob.get(f"/calls/{call['id']}"), 200)["node_url"] == (
        "https://node-b.example.com"
    )


async def test_calls_of_a_node_that_went_away_end_when_their_lease_lapses(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    theirs, ours = await start(ann, group), await start(ann, await create_group(ann, org_id))
    async with app.state.node.db.transaction() as txn:
        await txn.session.execute(
            update(Call)
            .where(Call.id == theirs["id"])
            .values(node_id="dead", lease_until=utcnow() - timedelta(seconds=1))
        )
    calls = app.state.node.calls
    assert await calls.upkeep() == 1
    assert expect(await bob.get(f"/calls/{theirs['id']}"), 200)["status"] == "ended"
    assert expect(await ann.get(f"/calls/{ours['id']}"), 200)["status"] == "active"
    assert [f["call"]["id"] for f, _ in await logged_events(app, "call.ended")] == [theirs["id"]]


async def test_a_call_nobody_joined_ends_after_the_lease(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann,) = await team(http, "Ann")
    group = await create_group(ann, org_id)
    call = await start(ann, group)
    calls = app.state.node.calls
    assert await calls.upkeep() == 0
    lease = app.state.node.settings.call_lease_s
    async with app.state.node.db.transaction() as txn:
        await txn.session.execute(
            update(Call)
            .where(Call.id == call["id"])
            .values(started_at=utcnow() - timedelta(seconds=lease + 1))
        )
    assert await calls.upkeep() == 1
    assert expect(await ann.get(f"/calls/{call['id']}"), 200)["status"] == "ended"


async def test_a_lost_connection_counts_as_leaving(app: Any, http: httpx.AsyncClient) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    call = await start(ann, group)
    async with clients((ann, 440), (bob, 660)) as (a, b):
        await a.join(call["id"])
        await b.join(call["id"])
        await app.state.node.calls.on_gone(call["id"], bob.id)
        now = expect(await ann.get(f"/calls/{call['id']}"), 200)
        assert [p["user_id"] for p in now["participants"]] == [ann.id]
        await app.state.node.calls.on_gone(call["id"], ann.id)
    assert expect(await ann.get(f"/calls/{call['id']}"), 200)["status"] == "ended"


async def test_who_speaks_arrives_coalesced_over_the_websocket(
    app: Any, http: httpx.AsyncClient, live: str
) -> None:
    org_id, (ann, bob, mia) = await team(http, "Ann", "Bob", "Mia")
    group = await create_group(ann, org_id, bob, mia)
    call = await start(ann, group)
    async with socket_of(live, mia) as watcher, clients((ann, 440), (bob, 0)) as (a, b):
        await a.join(call["id"])
        await b.join(call["id"])
        # Ann hums, Bob is silent: the mixer hears Ann speaking, and only her.
        frame = await watcher.until(lambda f: any(p["speaking"] for p in f["call"]["participants"]))
        speaking = {p["user_id"] for p in frame["call"]["participants"] if p["speaking"]}
        assert speaking == {ann.id}
        # Bob hears Ann's tone through the mixer.
        await asyncio.sleep(1.5)
        assert b.level_at(440) > 10 * max(b.level_at(1000), 1.0)
        # Muted, Ann no longer counts as speaking.
        expect(await ann.post(f"/calls/{call['id']}/mute", {"muted": True}), 200)
        await watcher.until(lambda f: not any(p["speaking"] for p in f["call"]["participants"]))
    updates = [f for f, _ in await logged_events(app, "call.updated")]
    # Coalesced: a handful of frames, not one per 20 ms audio frame.
    assert len(updates) < 20


async def test_a_node_shutting_down_ends_its_calls(settings: Any) -> None:
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 50000))
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as client,
    ):
        org_id, (ann, bob) = await team(client, "Ann", "Bob")
        group = await create_group(ann, org_id, bob)
        call = await start(ann, group)
        async with clients((ann, 440)) as (a,):
            await a.join(call["id"])
    # The process is gone, and its calls with it: over, for everyone, with call.ended.
    again = create_app(settings)
    async with again.router.lifespan_context(again):
        async with again.state.node.db.read() as session:
            stored = await session.get(Call, call["id"])
        assert stored is not None and stored.status == "ended" and stored.ended_at is not None
        ended = await logged_events(again, "call.ended")
        assert [frame["call"]["id"] for frame, _ in ended] == [call["id"]]


async def test_a_leave_through_another_node_reaches_this_mixer(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    call = await start(ann, group)
    calls = app.state.node.calls
    async with clients((ann, 440), (bob, 660)) as (a, b):
        await a.join(call["id"])
        await b.join(call["id"])
        # Bob's leave was answered by another node: only the database knows.
        async with app.state.node.db.transaction() as txn:
            await txn.session.execute(
                update(CallParticipant)
                .where(CallParticipant.call_id == call["id"], CallParticipant.user_id == bob.id)
                .values(left_at=utcnow())
            )
        assert calls.mixer_participants(call["id"]) == frozenset({ann.id, bob.id})
        await calls.upkeep()
        assert calls.mixer_participants(call["id"]) == frozenset({ann.id})


async def test_someone_removed_from_the_group_is_taken_out_of_its_call(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    call = await start(ann, group)
    calls = app.state.node.calls
    async with clients((ann, 440), (bob, 660)) as (a, b):
        await a.join(call["id"])
        await b.join(call["id"])
        expect(await ann.delete(f"/conversations/{group}/members/{bob.id}"), 204)
        await calls.upkeep()
        assert calls.mixer_participants(call["id"]) == frozenset({ann.id})
        now = expect(await ann.get(f"/calls/{call['id']}"), 200)
        assert [p["user_id"] for p in now["participants"]] == [ann.id]
