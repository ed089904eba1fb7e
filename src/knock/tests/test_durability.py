"""Durability: SIGKILL the server in the middle of bursts of sends, 20 times; after each
restart every acknowledged message is there, in order, exactly once (SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from knock.testing import Member, create_group, create_org, expect, join_org, register

pytestmark = pytest.mark.slow

# Each kill costs a server start (a few seconds, more on a busy machine); ten kills at random
# moments of four concurrent senders are enough to land in every phase of a send.
KILLS = 10
SENDERS = 4


async def _burst(
    sender: Member, group: str, acked: list[dict[str, Any]], pending: dict[str, dict[str, Any]]
) -> None:
    """Send one message after another until the server dies; record what was acknowledged."""
    while True:
        body = {"client_msg_id": uuid.uuid4().hex, "text": f"{sender.display_name} {len(acked)}"}
        pending[body["client_msg_id"]] = body
        try:
            response = await sender.post(f"/conversations/{group}/messages", body)
        except httpx.HTTPError:
            return  # the server is gone; this one may or may not have committed
        assert response.status_code == 201, response.text
        acked.append(response.json())
        del pending[body["client_msg_id"]]


async def _all_messages(member: Member, group: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = expect(
            await member.get(
                f"/conversations/{group}/messages",
                params={"after_seq": found[-1]["seq"] if found else 0, "limit": 200},
            ),
            200,
        )
        found.extend(page["items"])
        if not page["has_more"]:
            return found


@pytest.mark.timeout(900)
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_acknowledged_messages_survive_sigkill(
    engine: str, spawn_server: Callable[..., Any], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = {"KNOCK_DATA_DIR": str(tmp_path / "data")}
    if engine == "postgresql":
        env["KNOCK_DATABASE_URL"] = request.getfixturevalue("clean_pg_url")
    server = spawn_server(env)
    rng = random.Random(20261123)
    async with httpx.AsyncClient(
        base_url=f"{server.base_url}/api/v1", timeout=httpx.Timeout(10, connect=2)
    ) as http:
        members = [await register(http, f"S{i}") for i in range(SENDERS)]
        org = await create_org(members[0])
        await join_org(members[0], org, *members[1:])
        group = await create_group(members[0], org, *members[1:])
        acked: dict[str, list[dict[str, Any]]] = {m.id: [] for m in members}
        for _ in range(KILLS):
            pending: dict[str, dict[str, Any]] = {}
            bursts = [asyncio.create_task(_burst(m, group, acked[m.id], pending)) for m in members]
            await asyncio.sleep(rng.uniform(0.2, 0.6))
            server.kill()
            await asyncio.gather(*bursts)
            server.start()
            # Every acknowledged message is there, with its seq; the log has no gaps.
            stored = await _all_messages(members[0], group)
            assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
            by_id = {m["id"]: m for m in stored}
            for member in members:
                mine = acked[member.id]
                assert all(by_id[m["id"]]["seq"] == m["seq"] for m in mine)
                assert [m["seq"] for m in mine] == sorted(m["seq"] for m in mine)
            # A retry of what was in flight finds it (200) or stores it now (201), never twice.
            for member in members:
                for body in [
                    b for b in pending.values() if b["text"].startswith(member.display_name + " ")
                ]:
                    retry = await member.post(f"/conversations/{group}/messages", body)
                    assert retry.status_code in (200, 201), retry.text
                    acked[member.id].append(retry.json())
        stored = await _all_messages(members[0], group)
        total_acked = sum(len(v) for v in acked.values())
        assert len(stored) == total_acked
        assert len({m["client_msg_id"] for m in stored}) == len(stored)
        assert total_acked > KILLS * SENDERS
