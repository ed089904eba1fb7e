"""Convergence (Zulip's verify_action): the state a client builds from WebSocket events alone
equals the state it fetches fresh over HTTP, after a long random mix of everything a team
does: sends, edits, recalls, reads, new groups and dms, members added, leaving, removals,
renames, roles, departments, invites accepted and removals from the team.

The client's state: the teams it is in (members with role and department, departments)
and the conversations it is in (title, members, every message with its text, edits and
recall, its own read position, and who has read each of its own messages).

Events say what changed, not what was there before: someone added to an existing
conversation or team gets the state as it was at that moment over HTTP. The driver takes
that snapshot right after the step that made the join (nothing else writes meanwhile) and
files it under the join event's cursor; the client installs it when it reaches that event.
"""

from __future__ import annotations

import asyncio
import copy
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import websockets

from knock.realtime.eventlog import events_between, last_event_id
from knock.testing import Member, create_org, expect, register

pytestmark = pytest.mark.slow


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Coalesce receipts over 10 ms (so coalesced frames are part of the mix); recalls stay
    # possible for the whole run.
    return {"receipt_coalesce_ms": 10, "recall_window_s": 3600}


# -- the state a client keeps ----------------------------------------------------------


@dataclass
class Conv:
    org_id: str
    kind: str
    title: str | None
    members: set[str]
    cursors: dict[str, int]  # read_seq per member, as far as this client knows
    messages: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    last_seq: int = 0


@dataclass
class Org:
    members: dict[str, tuple[str, str | None]]  # user id -> (role, department id)
    departments: dict[str, tuple[str, str | None]]  # id -> (name, parent id)


Snapshot = Conv | Org


def message_fields(message: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("seq", "sender_id", "text", "edited_at", "recalled", "reply_to_id", "mentions")
    return (*(orjson.dumps(message[k]) for k in keys), message["created_at"])


def view(me: str, orgs: dict[str, Org], convs: dict[str, Conv]) -> dict[str, Any]:
    """What is compared: everything the client shows, in plain values."""
    conversations = {}
    for cid, c in convs.items():
        own = {mid: m for mid, m in c.messages.items() if orjson.loads(m[1]) == me}
        readers = {
            mid: sorted(
                u for u in c.members if u != me and c.cursors.get(u, 0) >= orjson.loads(m[0])
            )
            for mid, m in own.items()
        }
        conversations[cid] = {
            "org_id": c.org_id,
            "kind": c.kind,
            "title": c.title,
            "members": sorted(c.members),
            "last_seq": c.last_seq,
            "read_seq": c.cursors.get(me),
            "messages": c.messages,
            "readers": readers,
        }
    return {
        "orgs": {
            oid: {"members": o.members, "departments": o.departments} for oid, o in orgs.items()
        },
        "conversations": conversations,
    }


class EventModel:
    """Applies one client's frames, in order, to an empty state.

    ``strict``: the frame came live on the socket that was open from the start, so it
    must be about something the client is in (or its own joining/leaving). Frames of a
    resumed socket may also cover conversations the client is in only now.
    """

    def __init__(self, me: str, snapshots: dict[int, Snapshot]) -> None:
        self.me = me
        self.snapshots = snapshots
        self.used: set[int] = set()
        self.orgs: dict[str, Org] = {}
        self.convs: dict[str, Conv] = {}

    def snapshot(self, cursor: int, kind: type) -> Any:
        assert cursor in self.snapshots, f"joined at {cursor} but the driver saw no join there"
        snap = self.snapshots[cursor]
        assert isinstance(snap, kind)
        self.used.add(cursor)
        return copy.deepcopy(snap)

    def apply(self, frame: dict[str, Any], strict: bool) -> None:
        kind = frame["type"]
        if kind.startswith("org."):
            self._apply_org(frame, strict)
        elif kind != "session.revoked":
            self._apply_conversation(frame, strict)

    def _apply_org(self, frame: dict[str, Any], strict: bool) -> None:
        kind, cursor = frame["type"], int(frame["cursor"])
        if kind == "org.department_created":
            department = frame["department"]
            org = self.orgs.get(department["org_id"])
            assert org is not None or not strict, frame
            if org is not None:
                org.departments[department["id"]] = (department["name"], department["parent_id"])
            return
        org_id = frame["org_id"]
        user_id = frame["member"]["user_id"] if "member" in frame else frame["user_id"]
        if user_id == self.me and kind == "org.member_joined":
            self.orgs[org_id] = self.snapshot(cursor, Org)
            return
        if user_id == self.me and kind == "org.member_removed":
            self.orgs.pop(org_id, None)
            return
        org = self.orgs.get(org_id)
        assert org is not None or not strict, f"an event of a team the client is not in: {frame}"
        if org is None:
            return
        if kind == "org.member_removed":
            org.members.pop(user_id, None)
        else:
            member = frame["member"]
            org.members[user_id] = (member["role"], member["department_id"])

    def _apply_conversation(self, frame: dict[str, Any], strict: bool) -> None:
        kind, cursor = frame["type"], int(frame["cursor"])
        if kind == "conversation.created":
            c = frame["conversation"]
            assert self.me in frame["member_ids"]
            self.convs[c["id"]] = Conv(
                c["org_id"],
                c["kind"],
                c["title"],
                set(frame["member_ids"]),
                dict.fromkeys(frame["member_ids"], 0),
                last_seq=c["last_seq"],
            )
            return
        message = frame.get("message")
        cid = message["conversation_id"] if message else frame["conversation_id"]
        if kind == "member.joined" and self.me in frame["user_ids"]:
            self.convs[cid] = self.snapshot(cursor, Conv)
            return
        if kind == "member.left" and frame["user_id"] == self.me:
            self.convs.pop(cid, None)
            return
        conv = self.convs.get(cid)
        if conv is None:
            # Someone's own read can be sent after they left; anything else is a leak.
            own_receipt = kind == "receipt.updated" and all(
                r["user_id"] == self.me for r in frame["receipts"]
            )
            assert own_receipt or not strict, f"an event of a conversation not joined: {frame}"
            return
        if kind == "member.joined":
            for user_id in frame["user_ids"]:
                conv.members.add(user_id)
                conv.cursors[user_id] = conv.last_seq  # newcomers start with nothing unread
        elif kind == "member.left":
            conv.members.discard(frame["user_id"])
            conv.cursors.pop(frame["user_id"], None)
        elif kind == "conversation.updated":
            conv.title = frame["title"]
        elif kind in ("message.created", "message.updated"):
            assert message is not None
            conv.messages[message["id"]] = message_fields(message)
            if kind == "message.created":
                conv.last_seq = max(conv.last_seq, message["seq"])
                sender = message["sender_id"]
                conv.cursors[sender] = max(conv.cursors.get(sender, 0), message["seq"])
        elif kind == "receipt.updated":
            for receipt in frame["receipts"]:
                user_id = receipt["user_id"]
                if user_id in conv.members:
                    conv.cursors[user_id] = max(conv.cursors.get(user_id, 0), receipt["up_to_seq"])
        else:
            raise AssertionError(f"an event type the model does not know: {frame}")


# -- fetching the same state over HTTP -------------------------------------------------


async def fetch_conv(member: Member, cid: str) -> Conv:
    c = expect(await member.get(f"/conversations/{cid}"), 200)
    members = expect(await member.get(f"/conversations/{cid}/members", params={"limit": 1000}), 200)
    assert members["next_after"] is None
    conv = Conv(
        c["org_id"],
        c["kind"],
        c["title"],
        {m["user_id"] for m in members["items"]},
        {m["user_id"]: m["read_seq"] for m in members["items"]},
        last_seq=c["last_seq"],
    )
    assert c["member_count"] == len(conv.members)
    assert c["read_seq"] == conv.cursors[member.id]
    after = 0
    while True:
        page = expect(
            await member.get(
                f"/conversations/{cid}/messages", params={"after_seq": after, "limit": 200}
            ),
            200,
        )
        for m in page["items"]:
            conv.messages[m["id"]] = message_fields(m)
            after = m["seq"]
        if not page["has_more"]:
            break
    assert [orjson.loads(m[0]) for m in conv.messages.values()] == list(
        range(1, c["last_seq"] + 1)
    ), "seqs have gaps"
    return conv


async def fetch_org(member: Member, org_id: str) -> Org:
    page = expect(await member.get(f"/orgs/{org_id}/members", params={"limit": 500}), 200)
    assert page["next_after"] is None
    departments = expect(await member.get(f"/orgs/{org_id}/departments"), 200)
    return Org(
        {m["user_id"]: (m["role"], m["department_id"]) for m in page["items"]},
        {d["id"]: (d["name"], d["parent_id"]) for d in departments["items"]},
    )


async def my_conversations(member: Member) -> list[dict[str, Any]]:
    page = expect(await member.get("/conversations", params={"limit": 200}), 200)
    assert page["next_before"] is None
    return list(page["items"])


async def fetch_state(member: Member) -> dict[str, Any]:
    orgs = {
        o["id"]: await fetch_org(member, o["id"])
        for o in expect(await member.get("/orgs"), 200)["items"]
    }
    convs = {c["id"]: await fetch_conv(member, c["id"]) for c in await my_conversations(member)}
    state = view(member.id, orgs, convs)
    # The receipts of each own message say the same as the members' read positions.
    for cid, c in state["conversations"].items():
        for mid, readers in c["readers"].items():
            receipts = expect(await member.get(f"/messages/{mid}/receipts"), 200)
            assert sorted(receipts["read"]) == readers, (cid, mid)
            message = expect(await member.get(f"/messages/{mid}"), 200)
            assert message["unread_count"] == receipts["unread_count"]
    return state


# -- clients on the WebSocket ----------------------------------------------------------


class Client:
    """One device of an observed person: records every frame it is sent, in order."""

    def __init__(self, member: Member, live: str) -> None:
        self.member = member
        self.live = live
        self.frames: list[tuple[dict[str, Any], bool]] = []  # (frame, strict)
        self.cursor: str | None = None
        self.created: set[str] = set()
        self.resumed = False
        self.problem: str | None = None
        self.arrived = asyncio.Event()
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, resume: bool = False) -> None:
        query = f"token={self.member.token}"
        if resume:
            assert self.cursor is not None
            query += f"&cursor={self.cursor}"
            self.resumed = True
        self._socket = await websockets.connect(f"ws://{self.live}/api/v1/ws?{query}")
        self._reader = asyncio.create_task(self._read(strict=not resume))

    async def disconnect(self) -> None:
        await self.close()
        assert self.problem is None, self.problem

    async def _read(self, strict: bool) -> None:
        ready = False
        try:
            async for raw in self._socket:
                frame = orjson.loads(raw)
                kind = frame["type"]
                if kind == "ready":
                    ready = True
                    self.cursor = frame["cursor"]
                elif kind not in ("ping", "pong"):
                    self.frames.append((frame, strict and ready))
                    self.cursor = frame["cursor"]
                    if kind == "conversation.created":
                        self.created.add(frame["conversation"]["id"])
                        self.arrived.set()
        except websockets.ConnectionClosed as closed:
            self.problem = f"the server closed the socket: {closed}"
        self.arrived.set()

    async def seen(self, conversation_id: str) -> None:
        """Until this client has been sent the creation of that conversation."""
        while conversation_id not in self.created:
            assert self.problem is None, self.problem
            self.arrived.clear()
            await self.arrived.wait()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await self._reader

    def state_from_events(self, snapshots: dict[int, Snapshot], every_join: bool) -> Any:
        assert not any(f["type"] == "resync_required" for f, _ in self.frames), "cursor was good"
        cursors = [int(frame["cursor"]) for frame, _ in self.frames]
        assert cursors == sorted(set(cursors)), "an event was sent twice or out of order"
        model = EventModel(self.member.id, snapshots)
        for frame, strict in self.frames:
            model.apply(frame, strict)
        if every_join:
            assert model.used == set(snapshots), "a join the client never heard of"
        return view(self.member.id, model.orgs, model.convs)


# -- the driver ------------------------------------------------------------------------


class Team:
    """Drives the random mix over HTTP and takes the join snapshots."""

    def __init__(self, app: Any, owner: Member, people: list[Member], observed: list[Member]):
        self.app = app
        self.owner = owner
        self.people = [owner, *people]
        self.observed = observed
        self.org_id = ""
        self.snapshots: dict[str, dict[int, Snapshot]] = {m.id: {} for m in observed}
        self.watermark = 0
        self.by_id = {m.id: m for m in self.people}
        self.counts: dict[str, int] = {}
        self.compared = 0

    async def after_step(self) -> None:
        """Snapshot what an observed person just joined, under the join event's cursor."""
        async with self.app.state.node.db.read() as session:
            head = await last_event_id(session)
            stored = await events_between(session, self.watermark, head)
        self.watermark = head
        for event in stored:
            frame = orjson.loads(event.frame)
            for person in self.observed:
                if event.type == "member.joined" and person.id in frame["user_ids"]:
                    snap: Snapshot = await fetch_conv(person, frame["conversation_id"])
                elif event.type == "org.member_joined" and frame["member"]["user_id"] == person.id:
                    snap = await fetch_org(person, frame["org_id"])
                else:
                    continue
                self.snapshots[person.id][event.id] = snap

    async def roles(self) -> dict[str, str]:
        page = expect(
            await self.owner.get(f"/orgs/{self.org_id}/members", params={"limit": 500}), 200
        )
        return {m["user_id"]: m["role"] for m in page["items"]}

    async def invite(self, admin: Member, person: Member) -> None:
        code = expect(await admin.post(f"/orgs/{self.org_id}/invites", {}), 201)["code"]
        expect(await person.post(f"/invites/{code}/accept"), 200)

    async def step(self, rng: random.Random) -> None:
        actions = [
            (self.send, 28),
            (self.edit, 8),
            (self.recall, 5),
            (self.read, 14),
            (self.new_group, 6),
            (self.new_dm, 4),
            (self.add_members, 6),
            (self.leave_group, 3),
            (self.remove_from_group, 3),
            (self.rename, 4),
            (self.change_role, 4),
            (self.new_department, 2),
            (self.accept_invite, 6),
            (self.remove_from_team, 3),
        ]
        action = rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
        done = await action(rng)
        if done:
            self.counts[action.__name__] = self.counts.get(action.__name__, 0) + 1
        await self.after_step()

    async def someone_in_a_conversation(
        self, rng: random.Random, kind: str | None = None
    ) -> tuple[Member, dict[str, Any]] | None:
        roles = await self.roles()
        for person in rng.sample(self.people, len(self.people)):
            if person.id not in roles:
                continue
            convs = [c for c in await my_conversations(person) if kind in (None, c["kind"])]
            if convs:
                return person, rng.choice(convs)
        return None

    async def members_of(self, person: Member, cid: str) -> dict[str, str]:
        page = expect(
            await person.get(f"/conversations/{cid}/members", params={"limit": 1000}), 200
        )
        return {m["user_id"]: m["role"] for m in page["items"]}

    async def newest(self, person: Member, cid: str) -> list[dict[str, Any]]:
        return list(expect(await person.get(f"/conversations/{cid}/messages"), 200)["items"])

    async def send(self, rng: random.Random) -> bool:
        found = await self.someone_in_a_conversation(rng)
        if found is None:
            return False
        person, conv = found
        body: dict[str, Any] = {"client_msg_id": uuid.uuid4().hex, "text": f"m{rng.random()}"}
        newest = await self.newest(person, conv["id"])
        if newest and rng.random() < 0.2:
            body["reply_to_id"] = rng.choice(newest)["id"]
        if rng.random() < 0.15:
            body["mentions"] = [rng.choice(sorted(await self.members_of(person, conv["id"])))]
        expect(await person.post(f"/conversations/{conv['id']}/messages", body), 201)
        return True

    async def own_message(self, rng: random.Random) -> tuple[Member, dict[str, Any]] | None:
        found = await self.someone_in_a_conversation(rng)
        if found is None:
            return None
        person, conv = found
        own = [
            m
            for m in await self.newest(person, conv["id"])
            if m["sender_id"] == person.id and not m["recalled"]
        ]
        return (person, rng.choice(own)) if own else None

    async def edit(self, rng: random.Random) -> bool:
        found = await self.own_message(rng)
        if found is None:
            return False
        person, message = found
        expect(await person.patch(f"/messages/{message['id']}", {"text": f"e{rng.random()}"}), 200)
        return True

    async def recall(self, rng: random.Random) -> bool:
        found = await self.own_message(rng)
        if found is None:
            return False
        person, message = found
        expect(await person.post(f"/messages/{message['id']}/recall"), 200)
        return True

    async def read(self, rng: random.Random) -> bool:
        found = await self.someone_in_a_conversation(rng)
        if found is None:
            return False
        person, conv = found
        up_to = rng.randint(0, conv["last_seq"] + 1)
        expect(await person.post(f"/conversations/{conv['id']}/read", {"up_to_seq": up_to}), 204)
        return True

    async def new_group(self, rng: random.Random) -> bool:
        roles = await self.roles()
        creator = self.by_id[rng.choice(sorted(roles))]
        others = rng.sample(
            sorted(set(roles) - {creator.id}), rng.randint(0, min(3, len(roles) - 1))
        )
        body = {"kind": "group", "title": f"g{rng.randint(0, 99)}", "member_ids": others}
        expect(await creator.post(f"/orgs/{self.org_id}/conversations", body), 201)
        return True

    async def new_dm(self, rng: random.Random) -> bool:
        roles = await self.roles()
        if len(roles) < 2:
            return False
        first, second = rng.sample(sorted(roles), 2)
        body = {"kind": "dm", "member_ids": [second]}
        answer = await self.by_id[first].post(f"/orgs/{self.org_id}/conversations", body)
        assert answer.status_code in (200, 201), answer.text
        return True

    async def add_members(self, rng: random.Random) -> bool:
        found = await self.someone_in_a_conversation(rng, "group")
        if found is None:
            return False
        person, conv = found
        outside = sorted(set(await self.roles()) - set(await self.members_of(person, conv["id"])))
        if not outside:
            return False
        wanted = rng.sample(outside, rng.randint(1, min(2, len(outside))))
        added = expect(
            await person.post(f"/conversations/{conv['id']}/members", {"user_ids": wanted}), 200
        )
        assert sorted(added["added"]) == sorted(wanted)
        return True

    async def leave_group(self, rng: random.Random) -> bool:
        found = await self.someone_in_a_conversation(rng, "group")
        if found is None:
            return False
        person, conv = found
        expect(await person.delete(f"/conversations/{conv['id']}/members/{person.id}"), 204)
        return True

    async def remove_from_group(self, rng: random.Random) -> bool:
        found = await self.someone_in_a_conversation(rng, "group")
        if found is None:
            return False
        person, conv = found
        members = await self.members_of(person, conv["id"])
        may = members[person.id] == "owner" or (await self.roles())[person.id] in ("owner", "admin")
        others = sorted(set(members) - {person.id})
        if not others:
            return False
        answer = await person.delete(f"/conversations/{conv['id']}/members/{rng.choice(others)}")
        assert answer.status_code == (204 if may else 403), answer.text
        return may

    async def rename(self, rng: random.Random) -> bool:
        found = await self.someone_in_a_conversation(rng, "group")
        if found is None:
            return False
        person, conv = found
        title = f"t{rng.randint(0, 999)}"
        expect(await person.patch(f"/conversations/{conv['id']}", {"title": title}), 200)
        return True

    async def change_role(self, rng: random.Random) -> bool:
        roles = await self.roles()
        others = sorted(u for u, r in roles.items() if r != "owner")
        if not others:
            return False
        target = rng.choice(others)
        body: dict[str, Any] = {"role": "member" if roles[target] == "admin" else "admin"}
        departments = expect(await self.owner.get(f"/orgs/{self.org_id}/departments"), 200)
        if rng.random() < 0.5:
            choices = [None, *(d["id"] for d in departments["items"])]
            body["department_id"] = rng.choice(choices)
        expect(await self.owner.put(f"/orgs/{self.org_id}/members/{target}", body), 200)
        return True

    async def new_department(self, rng: random.Random) -> bool:
        roles = await self.roles()
        admin = self.by_id[rng.choice(sorted(u for u, r in roles.items() if r != "member"))]
        existing = expect(await admin.get(f"/orgs/{self.org_id}/departments"), 200)["items"]
        body: dict[str, Any] = {"name": f"d{rng.randint(0, 999)}"}
        if existing and rng.random() < 0.5:
            body["parent_id"] = rng.choice(existing)["id"]
        expect(await admin.post(f"/orgs/{self.org_id}/departments", body), 201)
        return True

    async def accept_invite(self, rng: random.Random) -> bool:
        roles = await self.roles()
        outside = [p for p in self.people if p.id not in roles]
        if not outside:
            return False
        admin = self.by_id[rng.choice(sorted(u for u, r in roles.items() if r != "member"))]
        await self.invite(admin, rng.choice(outside))
        return True

    async def remove_from_team(self, rng: random.Random) -> bool:
        roles = await self.roles()
        candidates = sorted(u for u, r in roles.items() if r != "owner")
        if not candidates:
            return False
        target = rng.choice(candidates)
        admins = sorted(u for u, r in roles.items() if r != "member" and u != target)
        remover = self.by_id[target if rng.random() < 0.4 else rng.choice(admins)]
        expect(await remover.delete(f"/orgs/{self.org_id}/members/{target}"), 204)
        return True


async def checkpoint(team: Team, clients: list[Client]) -> None:
    """Bring every connected client up to now and compare its state with HTTP.

    Each one starts a group of its own (back in the team first if it was removed): frames
    come in order, so a client that has that group's frame has every earlier one.
    """
    roles = await team.roles()
    for client in clients:
        if client.member.id not in roles:
            await team.invite(team.owner, client.member)
    await team.after_step()
    coalescer = team.app.state.node.receipt_coalescer
    await coalescer.stop()  # sends the receipts still being coalesced
    await coalescer.start()
    for client in clients:
        body = {"kind": "group", "title": "Checkpoint", "member_ids": []}
        mark = expect(await client.member.post(f"/orgs/{team.org_id}/conversations", body), 201)
        await asyncio.wait_for(client.seen(mark["id"]), 60)
    for client in clients:
        # A resumed socket replays only what its person is in now: a conversation joined
        # and left while it was away is never heard of (nor is its snapshot used).
        every_join = not client.resumed
        built = client.state_from_events(team.snapshots[client.member.id], every_join)
        fetched = await fetch_state(client.member)
        assert built == fetched, f"{client.member.display_name}'s events and HTTP differ"
        team.compared += sum(len(c["messages"]) for c in fetched["conversations"].values())


async def run_mix(
    app: Any, http: httpx.AsyncClient, live: str, seed: int, steps: int, resume: bool
) -> None:
    owner = await register(http, "Ann")
    people = [await register(http, n) for n in ("Bea", "Cal", "Dev", "Eve", "Fay")]
    clients = [Client(m, live) for m in people[:2]]
    try:
        await drive(app, owner, people, clients, seed, steps, resume)
    finally:
        for client in clients:
            await client.close()


async def drive(
    app: Any,
    owner: Member,
    people: list[Member],
    clients: list[Client],
    seed: int,
    steps: int,
    resume: bool,
) -> None:
    observed = [client.member for client in clients]
    for client in clients:
        await client.connect()
    team = Team(app, owner, people, observed)
    team.org_id = await create_org(owner, "Acme")
    for person in people[:4]:  # Fay starts outside the team
        await team.invite(owner, person)
    await team.after_step()

    rng = random.Random(seed)
    connected = list(clients)
    for number in range(1, steps + 1):
        await team.step(rng)
        if resume and number == steps // 3:
            await clients[0].disconnect()
            connected.remove(clients[0])
        if resume and number == 2 * steps // 3:
            await clients[0].connect(resume=True)
            connected.append(clients[0])
        if number % 30 == 0:
            await checkpoint(team, connected)
    await checkpoint(team, clients)
    for client in clients:
        await client.disconnect()
    assert len(team.counts) >= 12, f"the mix left out whole kinds of steps: {team.counts}"
    assert team.compared >= 50, "too few messages were compared to mean much"


async def test_state_from_events_equals_state_over_http(
    app: Any, http: httpx.AsyncClient, live: str
) -> None:
    await run_mix(app, http, live, seed=20261123, steps=150, resume=False)


async def test_a_client_that_resumes_from_its_cursor_converges_too(
    app: Any, http: httpx.AsyncClient, live: str
) -> None:
    await run_mix(app, http, live, seed=7, steps=120, resume=True)
