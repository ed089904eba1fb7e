"""The servers under test and how their users, teams and conversations are set up.

Knock: a real ``python -m knock serve`` (fresh data directory, or a fresh PostgreSQL
database) set up through its API: the owner registers and creates the team, the others
register concurrently and accept an invite, conversations are created with the API.
Registering costs an argon2id hash on the server's single core (~50 ms), so above
``API_SETUP_MAX`` users the bench seeds people straight into the database instead
(users, team membership and login sessions, as ``knock.testing.add_people`` does), then
still creates the conversations through the API. Nothing in ``src/`` is changed.

Bare: ``python -m bench.bare``; its users are plain ids and ``/bench/setup`` says who is
in which conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import httpx
import orjson

from bench.procs import SERVER_CPU, Server, free_port, pids_matching

API_SETUP_MAX = 200
PASSWORD = "correct horse battery staple"  # noqa: S105 - bench users


@dataclass
class User:
    id: str
    token: str


@dataclass
class World:
    users: list[User]
    conversations: dict[str, list[int]] = field(default_factory=dict)  # id -> user indexes
    setup: str = ""
    setup_s: float = 0.0


class Target:
    name = ""

    def __init__(self) -> None:
        self.server: Server | None = None
        self.port = 0

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def ports(self) -> list[int]:
        """Every node's port (one node unless the target is a cluster)."""
        return [self.port]

    def port_for(self, user_index: int) -> int:
        """The node a user's clients talk to: round-robin over the nodes."""
        ports = self.ports
        return ports[user_index % len(ports)]

    def ws_path(self, user: User, cursor: int | None = None) -> str:
        path = f"/api/v1/ws?token={user.token}"
        return path if cursor is None else f"{path}&cursor={cursor}"

    def start(self, pin: bool) -> None:
        raise NotImplementedError

    def node_cpus(self) -> list[float]:
        """CPU seconds of the server's own processes, node by node (the first is the one on
        the server's CPU), without the database and broker that ``server.cpu()`` counts."""
        assert self.server is not None
        return [self.server.own_cpu()]

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    async def make_world(
        self, n_users: int, groups: list[list[int]], dms: list[tuple[int, int]], setup: str
    ) -> World:
        raise NotImplementedError


class BareTarget(Target):
    name = "bare"
    module = "bench.bare"
    wrapper: ClassVar[
        list[str]
    ] = []  # runs the server under another module (bench.memory traces it)

    def start(self, pin: bool) -> None:
        self.port = free_port()
        argv = [sys.executable, *self.wrapper, "-m", self.module, "--port", str(self.port)]
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        self.server = Server(argv, env, self.port)
        self.server.start(pin)

    async def make_world(
        self, n_users: int, groups: list[list[int]], dms: list[tuple[int, int]], setup: str
    ) -> World:
        users = [User(f"u{i:06d}", f"u{i:06d}") for i in range(n_users)]
        world = World(users, setup="bare")
        for j, members in enumerate(groups):
            world.conversations[f"g{j}"] = list(members)
        for j, (a, b) in enumerate(dms):
            world.conversations[f"d{j}"] = [a, b]
        body = {
            "conversations": {c: [users[i].id for i in m] for c, m in world.conversations.items()}
        }
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as http:
            (await http.post("/bench/setup", content=orjson.dumps(body))).raise_for_status()
        return world


class RawTarget(BareTarget):
    """Fan-out on raw asyncio protocols: frames built once, written to transports."""

    name = "raw"
    module = "bench.rawfanout"


def _asyncpg_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


class KnockTarget(Target):
    name = "knock"
    wrapper: ClassVar[
        list[str]
    ] = []  # runs the server under another module (bench.memory traces it)

    def __init__(
        self,
        postgres: str = "",
        redis: str = "",
        env: dict[str, str] | None = None,
        nodes: int = 1,
        node_cpu_cap: float = 0.0,
    ) -> None:
        super().__init__()
        self.nodes = nodes  # > 1 needs PostgreSQL and Redis
        self.node_cpu_cap = node_cpu_cap  # share of one CPU each node may use (0: no cap)
        self.others: list[Server] = []
        self._ports: list[int] = []
        self.extra_env = dict(env or {})  # KNOCK_* settings for this run (--server-env)
        self.postgres = _asyncpg_url(postgres) if postgres else ""
        self.redis = redis
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.database_url = ""
        self._pg_name = ""

    def start(self, pin: bool) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="knock-bench-")
        data_dir = os.path.join(self._tmp.name, "data")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KNOCK_")}
        env.update({"KNOCK_DATA_DIR": data_dir, "KNOCK_LOG_LEVEL": "warning", **self.extra_env})
        needles: list[str] = []
        if self.postgres:
            from sqlalchemy.engine import make_url

            self._pg_name = f"knock_bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(_pg_admin(self.postgres, f'CREATE DATABASE "{self._pg_name}"'))
            base = make_url(self.postgres)
            self.database_url = base.set(database=self._pg_name).render_as_string(
                hide_password=False
            )
            env["KNOCK_DATABASE_URL"] = self.database_url
            import subprocess

            subprocess.run(
                [sys.executable, "-m", "knock", "migrate"],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            # This run's backends and the shared writers (WAL, checkpoints, background).
            needles += [self._pg_name, "walwriter", "checkpointer", "background writer"]
        else:
            self.database_url = f"sqlite+aiosqlite:///{data_dir}/knock.db"
        if self.redis:
            env["KNOCK_BROKER_URL"] = self.redis
            env["KNOCK_BROKER_PREFIX"] = f"knockbench-{uuid.uuid4().hex[:8]}"
            needles.append("redis-server")
        found = tuple(needles)
        self._ports = [self.port] + [free_port() for _ in range(self.nodes - 1)]
        self.others = [
            Server(
                [sys.executable, "-m", "knock", "serve", "--port", str(p)],
                env,
                p,
                cpu=(SERVER_CPU + n) % 2,  # two CPUs here: the second node shares the generator's
                cpu_cap=self.node_cpu_cap,
            )
            for n, p in enumerate(self._ports[1:], start=1)
        ]

        def extra() -> list[int]:
            # The other nodes, and this run's PostgreSQL backends and Redis.
            pids = [pid for node in self.others for pid in node.pids]
            return pids + (pids_matching(("postgres", "redis-server"), found) if found else [])

        argv = [sys.executable, *self.wrapper, "-m", "knock", "serve", "--port", str(self.port)]
        self.server = Server(argv, env, self.port, extra_pids=extra, cpu_cap=self.node_cpu_cap)
        self.server.start(pin)
        for node in self.others:
            node.start(pin)

    @property
    def ports(self) -> list[int]:
        return self._ports or [self.port]

    def node_cpus(self) -> list[float]:
        assert self.server is not None
        return [self.server.own_cpu(), *(node.own_cpu() for node in self.others)]

    def stop(self) -> None:
        for node in self.others:
            node.stop()
        self.others = []
        super().stop()
        if self._pg_name:
            drop = f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)'
            with contextlib.suppress(Exception):
                asyncio.run(_pg_admin(self.postgres, drop))
            self._pg_name = ""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def make_world(
        self, n_users: int, groups: list[list[int]], dms: list[tuple[int, int]], setup: str
    ) -> World:
        loop = asyncio.get_running_loop()
        started = loop.time()
        mode = setup
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}/api/v1", limits=limits, timeout=120
        ) as http:
            owner = await _register(http, "owner")
            org = await _call(http, owner, "POST", "/orgs", {"name": "Bench"}, 201)
            org_id = org["id"]
            # "api": everyone registers over the API; "api:N": the first N do, the rest
            # are seeded; "seed": only the owner registers.
            via_api = n_users - 1 if mode == "api" else 0
            if mode.startswith("api:"):
                via_api = min(int(mode[4:]) - 1, n_users - 1)
            users = [
                owner,
                *await self._api_people(http, owner, org_id, via_api),
                *await self._seed_people(org_id, n_users - 1 - via_api),
            ]
            world = World(users, setup=mode)
            gate = asyncio.Semaphore(16)

            async def create(creator: int, body: dict[str, Any], members: list[int]) -> None:
                async with gate:
                    made = await _call(
                        http, users[creator], "POST", f"/orgs/{org_id}/conversations", body, 201
                    )
                world.conversations[made["id"]] = members

            jobs = []
            for members in groups:
                others = [users[i].id for i in members[1:]]
                body = {"kind": "group", "title": "Bench", "member_ids": others}
                jobs.append(create(members[0], body, list(members)))
            for a, b in dms:
                jobs.append(create(a, {"kind": "dm", "member_ids": [users[b].id]}, [a, b]))
            await asyncio.gather(*jobs)
        world.setup_s = loop.time() - started
        return world

    async def _api_people(
        self, http: httpx.AsyncClient, owner: User, org_id: str, count: int
    ) -> list[User]:
        gate = asyncio.Semaphore(8)

        async def one(i: int, code: str) -> User:
            async with gate:
                user = await _register(http, f"user{i}")
                await _call(http, user, "POST", f"/invites/{code}/accept", None, 200)
                return user

        people: list[User] = []
        for start in range(0, count, 1000):
            batch = min(1000, count - start)
            invite = await _call(
                http, owner, "POST", f"/orgs/{org_id}/invites", {"max_uses": 1000}, 201
            )
            people += await asyncio.gather(*(one(start + i, invite["code"]) for i in range(batch)))
        return people

    async def _seed_people(self, org_id: str, count: int) -> list[User]:
        from sqlalchemy import insert
        from sqlalchemy.ext.asyncio import create_async_engine

        from knock.core.clock import utcnow
        from knock.core.ids import new_id
        from knock.features.accounts.actions import hash_token
        from knock.features.accounts.models import AuthSession
        from knock.features.accounts.models import User as UserRow
        from knock.features.orgs.models import OrgMember

        if count <= 0:
            return []
        now = utcnow()
        people, users, members, sessions = [], [], [], []
        for i in range(count):
            user_id, token = new_id(), uuid.uuid4().hex + uuid.uuid4().hex
            users.append(
                {
                    "id": user_id,
                    "email": f"seed{i}-{uuid.uuid4().hex[:6]}@example.com",
                    "display_name": f"Seed {i}",
                    "password_hash": "-",
                    "created_at": now,
                }
            )
            members.append(
                {
                    "org_id": org_id,
                    "user_id": user_id,
                    "role": "member",
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
            people.append(User(user_id, token))
        connect_args = {"timeout": 60} if self.database_url.startswith("sqlite") else {}
        engine = create_async_engine(self.database_url, connect_args=connect_args)
        try:
            async with engine.begin() as conn:
                for rows, table in (
                    (users, UserRow),
                    (members, OrgMember),
                    (sessions, AuthSession),
                ):
                    for at in range(0, len(rows), 2000):
                        await conn.execute(insert(table), rows[at : at + 2000])
        finally:
            await engine.dispose()
        return people


async def _pg_admin(url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _register(http: httpx.AsyncClient, name: str) -> User:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": name}
    response = await http.post("/auth/register", json=body)
    if response.status_code != 201:
        raise RuntimeError(f"register: {response.status_code} {response.text[:300]}")
    data = response.json()
    return User(data["user"]["id"], data["token"])


async def _call(
    http: httpx.AsyncClient, user: User, method: str, path: str, body: Any, status: int
) -> Any:
    response = await http.request(
        method, path, json=body, headers={"Authorization": f"Bearer {user.token}"}
    )
    if response.status_code != status:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response.json() if response.content else None
