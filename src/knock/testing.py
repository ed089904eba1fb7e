"""A small client for Knock's API used by the test suites and benchmarks (no fakes)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import insert

from knock.core.clock import utcnow
from knock.core.events import Audience
from knock.core.ids import new_id
from knock.features.accounts.actions import hash_token
from knock.features.accounts.models import AuthSession, User
from knock.features.orgs.models import OrgMember
from knock.realtime.eventlog import events_between

_counter = itertools.count(1)


@dataclass
class Member:
    """A registered user as a test sees them: their id, token and an authorized client."""

    id: str
    email: str
    token: str
    display_name: str
    http: httpx.AsyncClient

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, headers=self.auth, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.post(path, json=json, headers=self.auth, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.put(path, json=json, headers=self.auth, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.patch(path, json=json, headers=self.auth, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.delete(path, headers=self.auth, **kw)


def expect(response: httpx.Response, status: int) -> Any:
    """The JSON body of a response that must have this status (else a readable failure)."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url.path}: expected {status}, "
        f"got {response.status_code}: {response.text[:500]}"
    )
    return response.json() if response.content else None


async def register(http: httpx.AsyncClient, name: str | None = None) -> Member:
    n = next(_counter)
    name = name or f"user{n}"
    email = f"{name.lower()}-{n}-{uuid.uuid4().hex[:6]}@example.com"
    body = expect(
        await http.post(
            "/auth/register",
            json={"email": email, "password": "correct horse battery", "display_name": name},
        ),
        201,
    )
    return Member(body["user"]["id"], email, body["token"], name, http)


async def create_org(owner: Member, name: str = "Acme") -> str:
    return str(expect(await owner.post("/orgs", {"name": name}), 201)["id"])


async def join_org(admin: Member, org_id: str, *people: Member, role: str = "member") -> None:
    code = expect(await admin.post(f"/orgs/{org_id}/invites", {"role": role}), 201)["code"]
    for person in people:
        expect(await person.post(f"/invites/{code}/accept"), 200)


async def team(http: httpx.AsyncClient, *names: str) -> tuple[str, list[Member]]:
    """An org owned by the first person, with the others as members."""
    people = [await register(http, name) for name in names]
    org_id = await create_org(people[0])
    if len(people) > 1:
        await join_org(people[0], org_id, *people[1:])
    return org_id, people


async def create_group(creator: Member, org_id: str, *others: Member, title: str = "Team") -> str:
    body = {"kind": "group", "title": title, "member_ids": [m.id for m in others]}
    return str(expect(await creator.post(f"/orgs/{org_id}/conversations", body), 201)["id"])


async def send_text(sender: Member, conversation_id: str, text: str) -> dict[str, Any]:
    body = {"client_msg_id": uuid.uuid4().hex, "text": text}
    result: dict[str, Any] = expect(
        await sender.post(f"/conversations/{conversation_id}/messages", body), 201
    )
    return result


async def add_people(
    http: httpx.AsyncClient, app: Any, org_id: str, count: int, role: str = "member"
) -> list[Member]:
    """Many signed-in members of an org at once, written straight to the database (the
    HTTP sign-up hashes a password per person, far too slow for a thousand)."""
    now = utcnow()
    people: list[Member] = []
    users, members, sessions = [], [], []
    for _ in range(count):
        user_id, token = new_id(), uuid.uuid4().hex + uuid.uuid4().hex
        name = f"bulk{next(_counter)}"
        email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
        users.append(
            {
                "id": user_id,
                "email": email,
                "display_name": name,
                "password_hash": "-",
                "created_at": now,
            }
        )
        members.append(
            {
                "org_id": org_id,
                "user_id": user_id,
                "role": role,
                "department_id": None,
                "joined_at": now,
            }
        )
        sessions.append(
            {
                "id": new_id(),
                "user_id": user_id,
                "token_hash": hash_token(token),
                "created_at": now,
                "expires_at": now + timedelta(days=1),
                "revoked_at": None,
            }
        )
        people.append(Member(user_id, email, token, name, http))
    async with app.state.node.db.transaction() as txn:
        await txn.session.execute(insert(User), users)
        await txn.session.execute(insert(OrgMember), members)
        await txn.session.execute(insert(AuthSession), sessions)
    return people


async def logged_events(app: Any, *types: str) -> list[tuple[dict[str, Any], Audience]]:
    """Committed events from the app's event log, oldest first: (frame as JSON, audience).

    With types given, only events of those types.
    """
    async with app.state.node.db.read() as session:
        stored = await events_between(session, 0, 2**62)
    return [(orjson.loads(e.frame), e.audience) for e in stored if not types or e.type in types]
