"""DING over real WebSockets, on the in-memory and the Redis broker: the recipient hears the
loud alert, the sender hears each confirmation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import websockets

from knock.testing import expect, team


async def next_event(socket: Any) -> dict[str, Any]:
    """The socket's next DING event. Others are skipped: the team's setup (people joining
    the org) commits before the sockets open, but a socket opened without a cursor starts
    where its node's delivery stands, and on Redis an event may still be on its way, to
    arrive after ``ready``."""
    while True:
        frame: dict[str, Any] = orjson.loads(await asyncio.wait_for(socket.recv(), 10))
        if frame["type"].startswith("ding."):
            return frame


async def test_the_alert_and_the_confirmation_arrive_live(
    http: httpx.AsyncClient, live: str, broker_url: str
) -> None:
    org, (ann, bob, cat) = await team(http, "Ann", "Bob", "Cat")
    url = f"ws://{live}/api/v1/ws?token="
    async with (
        websockets.connect(url + ann.token) as ann_socket,
        websockets.connect(url + bob.token) as bob_socket,
        websockets.connect(url + cat.token) as cat_socket,
    ):
        for socket in (ann_socket, bob_socket, cat_socket):
            assert orjson.loads(await socket.recv())["type"] == "ready"
        body = {"client_ding_id": uuid.uuid4().hex, "recipient_ids": [bob.id], "text": "Now!"}
        sent = expect(await ann.post(f"/orgs/{org}/dings", body), 201)

        alert = await next_event(bob_socket)
        assert alert["type"] == "ding.created" and alert["ding"]["id"] == sent["id"]
        assert [r["user_id"] for r in alert["ding"]["recipients"]] == [bob.id]
        own = await next_event(ann_socket)
        assert own["type"] == "ding.created" and own["ding"] == sent

        expect(await bob.post(f"/dings/{sent['id']}/confirm"), 200)
        for socket in (ann_socket, bob_socket):
            update = await next_event(socket)
            assert (update["type"], update["change"], update["ding_id"]) == (
                "ding.updated",
                "confirmed",
                sent["id"],
            )
            assert update["recipient"]["user_id"] == bob.id
            assert update["recipient"]["confirmed_at"] is not None

        # Cat, in the team but not DINGed, heard nothing: her next DING frame is her own
        # marker.
        marker = expect(await cat.post(f"/orgs/{org}/dings", {**body, "client_ding_id": "m"}), 201)
        assert (await next_event(cat_socket))["ding"]["id"] == marker["id"]
