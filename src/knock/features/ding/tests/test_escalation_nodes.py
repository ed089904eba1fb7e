"""The ladder across real server processes (``python -m knock serve``): one killed between
two steps resumes where it was, and two nodes on one database send each step once (SQLite
file and PostgreSQL). The team's delays are seconds here: ``KNOCK_DING_MIN_STEP_S=1``."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from knock.core.clock import utcnow
from knock.features.ding.tests.conftest import Gateway, Mailbox
from knock.testing import Member, expect, team

pytestmark = pytest.mark.slow

WAIT_S = 60.0


@pytest.fixture(params=["sqlite", "postgresql"])
def node_env(
    request: pytest.FixtureRequest, tmp_path: Path, mailbox: Mailbox, gateway: Gateway
) -> dict[str, str]:
    env = {
        "KNOCK_DATA_DIR": str(tmp_path / "data"),
        "KNOCK_SMTP_HOST": "127.0.0.1",
        "KNOCK_SMTP_PORT": str(mailbox.port),
        "KNOCK_DING_GATEWAY_URL": gateway.url,
        "KNOCK_DING_MIN_STEP_S": "1",
        "KNOCK_DING_POLL_S": "0.05",
        "KNOCK_LOG_LEVEL": "warning",
    }
    if request.param == "postgresql":
        env["KNOCK_DATABASE_URL"] = request.getfixturevalue("clean_pg_url")
    else:
        env["KNOCK_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'shared' / 'knock.db'}"
    return env


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {WAIT_S} s")
        await asyncio.sleep(0.1)


async def set_ladder(admin: Member, org: str, email_after_s: int, gateway_after_s: int) -> None:
    body = {
        "email_after_s": email_after_s,
        "gateway_after_s": gateway_after_s,
        "email_enabled": True,
        "gateway_enabled": True,
    }
    expect(await admin.put(f"/orgs/{org}/ding-settings", body), 200)


async def ding(sender: Member, org: str, *people: Member) -> dict[str, Any]:
    body = {"client_ding_id": uuid.uuid4().hex, "recipient_ids": [p.id for p in people]}
    result: dict[str, Any] = expect(
        await sender.post(f"/orgs/{org}/dings", {**body, "text": "Call me"}), 201
    )
    return result


async def last_steps(sender: Member, ding_id: str) -> dict[str, str]:
    view = expect(await sender.get(f"/dings/{ding_id}"), 200)
    return {r["user_id"]: r["last_step"] for r in view["recipients"]}


async def test_a_node_killed_between_two_steps_resumes_the_ladder(
    spawn_server: Callable[..., Any], node_env: dict[str, str], mailbox: Mailbox, gateway: Gateway
) -> None:
    server = spawn_server(node_env)
    async with httpx.AsyncClient(
        base_url=f"{server.base_url}/api/v1", timeout=httpx.Timeout(10, connect=2)
    ) as http:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        await set_ladder(ann, org, 1, 8)
        sent = await ding(ann, org, bob)

        async def emailed() -> bool:
            return (await last_steps(ann, sent["id"]))[bob.id] == "email"

        await until(emailed, "the email step")
        server.kill()
        assert len(mailbox.messages()) == 1 and gateway.recorded() == []

        # The gateway's moment passes while no node runs.
        due = datetime.fromisoformat(sent["recipients"][0]["dinged_at"]).timestamp() + 8
        await asyncio.sleep(max(0.0, due - utcnow().timestamp()) + 0.5)
        assert gateway.recorded() == []
        server.start()

        async def called() -> bool:
            return (await last_steps(ann, sent["id"]))[bob.id] == "gateway"

        await until(called, "the gateway step after the restart")
    (call,) = gateway.recorded()
    assert (call.body["ding_id"], call.body["user_id"]) == (sent["id"], bob.id)
    assert len(mailbox.messages()) == 1


async def test_two_nodes_send_each_step_once(
    spawn_server: Callable[..., Any], node_env: dict[str, str], mailbox: Mailbox, gateway: Gateway
) -> None:
    node_a = spawn_server(node_env)
    node_b = spawn_server(node_env)
    timeout = httpx.Timeout(10, connect=2)
    async with (
        httpx.AsyncClient(base_url=f"{node_a.base_url}/api/v1", timeout=timeout) as http_a,
        httpx.AsyncClient(base_url=f"{node_b.base_url}/api/v1", timeout=timeout) as http_b,
    ):
        org, people = await team(http_a, "Ann", "P1", "P2", "P3", "P4", "P5")
        ann, recipients = people[0], people[1:]
        await set_ladder(ann, org, 1, 3)
        on_b = Member(ann.id, ann.email, ann.token, ann.display_name, http_b)
        dings = [await ding(ann, org, *recipients), await ding(on_b, org, *recipients)]

        async def all_called() -> bool:
            for sent in dings:
                steps = await last_steps(on_b, sent["id"])
                if set(steps.values()) != {"gateway"}:
                    return False
            return True

        await until(all_called, "every recipient's gateway step")
    mailed = sorted(rcpt[0] for rcpt, _ in mailbox.messages())
    assert mailed == sorted(p.email for p in recipients for _ in dings)
    called = sorted((c.body["ding_id"], c.body["user_id"]) for c in gateway.recorded())
    assert called == sorted((d["id"], p.id) for d in dings for p in recipients)
