"""Org events on a real WebSocket: a joiner starts hearing the org at once, and a removed
member's open socket hears the removal and then nothing more of the org."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import websockets
from websockets.asyncio.client import ClientConnection

from knock.testing import create_org, expect, join_org, register


async def next_event(ws: ClientConnection) -> Any:
    """The next frame that is not a heartbeat."""
    while True:
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] not in ("ping", "ready"):
            return frame


async def test_joining_and_removal_reach_open_sockets(live: str, http: httpx.AsyncClient) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    url = f"ws://{live}/api/v1/ws?token={bob.token}"
    async with websockets.connect(url) as socket:
        assert orjson.loads(await socket.recv())["type"] == "ready"
        await join_org(ann, org_id, bob)
        joined = await next_event(socket)
        assert (joined["type"], joined["member"]["user_id"]) == ("org.member_joined", bob.id)
        sales = expect(await ann.post(f"/orgs/{org_id}/departments", {"name": "Sales"}), 201)
        created = await next_event(socket)
        assert (created["type"], created["department"]) == ("org.department_created", sales)
        assert int(created["cursor"]) > int(joined["cursor"])

        expect(await ann.delete(f"/orgs/{org_id}/members/{bob.id}"), 204)
        removed = await next_event(socket)
        assert (removed["type"], removed["user_id"]) == ("org.member_removed", bob.id)
        # Nothing more of that org: the next frame Bob gets is about his own new org.
        expect(await ann.post(f"/orgs/{org_id}/departments", {"name": "Secret"}), 201)
        own = await create_org(bob, "Bob's")
        after = await next_event(socket)
        assert (after["type"], after["org_id"]) == ("org.member_joined", own)
