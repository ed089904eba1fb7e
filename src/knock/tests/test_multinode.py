"""Two server processes sharing PostgreSQL and Redis deliver to each other's clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
import websockets

from knock.testing import create_group, create_org, join_org, register, send_text

pytestmark = pytest.mark.slow


async def _next_message(sock: Any) -> dict[str, Any]:
    while True:
        frame = orjson.loads(await asyncio.wait_for(sock.recv(), 15))
        if frame["type"] == "message.created":
            return dict(frame["message"])


async def _sends_reach_both_nodes(
    node_a: Any, node_b: Any, count: int, before_sending: Callable[[], None] = lambda: None
) -> None:
    """Ann on node A and Bob on node B, in one group, each with a socket open, take turns
    sending ``count`` messages (after ``before_sending``): every send must be answered 201,
    and each socket must see every message, its own node's and the other node's, in order."""
    async with (
        httpx.AsyncClient(base_url=f"{node_a.base_url}/api/v1") as on_a,
        httpx.AsyncClient(base_url=f"{node_b.base_url}/api/v1") as on_b,
    ):
        ann = await register(on_a, "Ann")
        bob = await register(on_b, "Bob")
        org = await create_org(ann)
        await join_org(ann, org, bob)
        group = await create_group(ann, org, bob)
        ws_a = f"ws://127.0.0.1:{node_a.port}/api/v1/ws?token={ann.token}"
        ws_b = f"ws://127.0.0.1:{node_b.port}/api/v1/ws?token={bob.token}"
        async with websockets.connect(ws_a) as ann_sock, websockets.connect(ws_b) as bob_sock:
            for sock in (ann_sock, bob_sock):
                assert orjson.loads(await sock.recv())["type"] == "ready"
            before_sending()
            sent = []
            for i in range(count):
                sender = ann if i % 2 == 0 else bob
                sent.append((await send_text(sender, group, f"hello {i}"))["id"])
            for sock in (ann_sock, bob_sock):
                assert [(await _next_message(sock))["id"] for _ in sent] == sent


async def test_two_nodes_deliver_to_each_others_clients(
    spawn_server: Callable[..., Any], cluster_env: dict[str, str]
) -> None:
    await _sends_reach_both_nodes(spawn_server(cluster_env), spawn_server(cluster_env), 20)


async def test_logout_on_one_node_ends_the_token_on_the_other(
    spawn_server: Callable[..., Any], cluster_env: dict[str, str]
) -> None:
    """Each node remembers signed-in tokens; session.revoked makes every node forget."""
    node_a = spawn_server(cluster_env)
    node_b = spawn_server(cluster_env)
    async with (
        httpx.AsyncClient(base_url=f"{node_a.base_url}/api/v1") as on_a,
        httpx.AsyncClient(base_url=f"{node_b.base_url}/api/v1") as on_b,
    ):
        ann = await register(on_a, "Ann")
        auth = {"Authorization": f"Bearer {ann.token}"}
        for _ in range(3):  # node B has now looked the token up and remembers it
            assert (await on_b.get("/me", headers=auth)).status_code == 200
        assert (await on_a.post("/auth/logout", headers=auth)).status_code == 204
        assert (await on_a.get("/me", headers=auth)).status_code == 401
        status = 200
        for _ in range(100):  # the event crosses the broker; bounded at 10 s
            status = (await on_b.get("/me", headers=auth)).status_code
            if status == 401:
                break
            await asyncio.sleep(0.1)
        assert status == 401


async def test_with_redis_down_sends_succeed_and_reach_both_nodes_from_the_database(
    spawn_server: Callable[..., Any], cluster_env: dict[str, str], own_redis: Any
) -> None:
    """The broker is the fast path, the database the truth: with Redis gone a send is
    still answered 201, and each node's event pump delivers it from the event log."""
    await own_redis.ready()
    env = {**cluster_env, "KNOCK_BROKER_URL": own_redis.url}
    await _sends_reach_both_nodes(spawn_server(env), spawn_server(env), 10, own_redis.stop)
