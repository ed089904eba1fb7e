"""Admission control over real sockets: refusals at the door, nothing acknowledged is lost,
and the node admits again once the load is gone."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
import websockets

from knock.config import Settings
from knock.core.admission import STANDING_QUEUE_S, Admission, AdmissionControl
from knock.main import create_app
from knock.testing import create_group, expect, register, team


class Node:
    def __init__(self, app: Any, address: str) -> None:
        self.app, self.address = app, address
        self.admission: Admission = app.state.admission

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=f"http://{self.address}/api/v1", timeout=60)

    async def hold_a_request(self) -> HeldRequest:
        """A request (not a write: logins are limited as requests) that is in flight until
        released: its body is only half sent."""
        return await self._hold(
            "/api/v1/auth/login", b"", b'{"email": "x@example.com"' + b" " * 20 + b"}"
        )

    async def hold_a_send(self, token: str, conversation_id: str, cmid: str) -> HeldRequest:
        """A message send, in flight through the write gate until released."""
        body = orjson.dumps({"client_msg_id": cmid, "text": "held"})
        return await self._hold(
            f"/api/v1/conversations/{conversation_id}/messages",
            f"Authorization: Bearer {token}\r\n".encode(),
            body,
        )

    async def _hold(self, path: str, headers: bytes, body: bytes) -> HeldRequest:
        host, port = self.address.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        gate = self.admission.requests
        before = gate.inflight
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: knock\r\n".encode()
            + headers
            + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:1]
        )
        await writer.drain()
        for _ in range(1000):
            if gate.inflight > before:
                break
            await asyncio.sleep(0.01)
        assert gate.inflight > before, "the held request never got in"
        return HeldRequest(reader, writer, body[1:])


class HeldRequest:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rest: bytes
    ) -> None:
        self.reader, self.writer, self.rest = reader, writer, rest

    async def release(self) -> bytes:
        """Send the rest of the body; answers the status line."""
        self.writer.write(self.rest)
        await self.writer.drain()
        status = await self.reader.readline()
        self.writer.close()
        return status


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def node(settings: Settings, **limits: Any) -> AsyncIterator[Node]:
    """A node with these limits, served over TCP in this loop."""
    app = create_app(settings.model_copy(update=limits))
    async with app.router.lifespan_context(app):
        port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
            ws="websockets-sansio",
        )  # fmt: skip
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        try:
            yield Node(app, f"127.0.0.1:{port}")
        finally:
            server.should_exit = True
            await task


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


async def test_a_full_node_answers_503_with_retry_after_then_admits_again(
    settings: Settings,
) -> None:
    limits = {"max_inflight_requests": 1, "max_queued_requests": 0}
    async with node(settings, **limits) as n, n.client() as http:
        held = await n.hold_a_request()
        assert_refused(await http.get("/me"), 503, "overloaded")
        # Load balancers must still see the node alive.
        assert (await http.get("/health")).status_code == 200
        assert (await held.release()).startswith(b"HTTP/1.1 422")  # no password
        expect(await http.get("/me"), 401)  # admitted again: the token check answers
        assert n.admission.stats.overloaded == 1


async def test_a_queued_request_gets_in_when_a_slot_frees_and_the_queue_is_bounded(
    settings: Settings,
) -> None:
    async with (
        node(
            settings, max_inflight_requests=1, max_queued_requests=1, queue_timeout_ms=60_000
        ) as n,
        n.client() as http,
        n.client() as other,
    ):
        held = await n.hold_a_request()
        queued = asyncio.create_task(http.get("/me"))
        while not n.admission.requests.queued:  # noqa: ASYNC110 - state of the server under test
            await asyncio.sleep(0.01)
        assert_refused(await other.get("/me"), 503, "overloaded")
        assert not queued.done()
        await held.release()
        expect(await queued, 401)


async def test_a_request_that_waited_too_long_is_refused(settings: Settings) -> None:
    async with (
        node(settings, max_inflight_requests=1, max_queued_requests=10, queue_timeout_ms=50) as n,
        n.client() as http,
    ):
        held = await n.hold_a_request()
        assert_refused(await http.get("/me"), 503, "overloaded")
        await held.release()
        expect(await http.get("/me"), 401)


async def test_writes_over_the_write_limit_queue_then_get_503_while_reads_get_in(
    settings: Settings,
) -> None:
    limits = {"max_inflight_writes": 1, "max_queued_requests": 1, "queue_timeout_ms": 60_000}
    async with node(settings, **limits) as n, n.client() as http:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        group = await create_group(ann, org, bob)
        path = f"/conversations/{group}/messages"
        held = await n.hold_a_send(ann.token, group, "held")
        assert n.admission.writes.inflight == 1
        # The next write waits at the door, not inside on the database's write lock.
        queued = asyncio.create_task(bob.post(path, {"client_msg_id": "queued", "text": "1"}))
        while not n.admission.writes.queued:  # noqa: ASYNC110 - state of the server under test
            await asyncio.sleep(0.01)
        # The write queue is full: the write after it is refused at once, in the error shape.
        assert_refused(
            await bob.post(path, {"client_msg_id": "refused", "text": "2"}), 503, "overloaded"
        )
        # Other mutating requests share the write gate; reads go past it.
        assert_refused(
            await ann.patch(f"/conversations/{group}", {"title": "x"}), 503, "overloaded"
        )
        page = expect(await bob.get(path), 200)
        assert page["items"] == []
        assert not queued.done()
        assert n.admission.stats.by_reason["writes_queue_full"] == 2
        assert (await held.release()).startswith(b"HTTP/1.1 201")
        expect(await queued, 201)
        page = expect(await bob.get(path), 200)
        assert [m["client_msg_id"] for m in page["items"]] == ["held", "queued"]
        assert n.admission.writes.inflight == n.admission.requests.inflight == 0


async def test_a_write_that_waited_too_long_is_refused_and_not_stored(settings: Settings) -> None:
    limits = {"max_inflight_writes": 1, "max_queued_requests": 10, "queue_timeout_ms": 50}
    async with node(settings, **limits) as n, n.client() as http:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        group = await create_group(ann, org, bob)
        path = f"/conversations/{group}/messages"
        held = await n.hold_a_send(ann.token, group, "held")
        refused = await bob.post(path, {"client_msg_id": "late", "text": "hi"})
        assert_refused(refused, 503, "overloaded")
        assert n.admission.stats.by_reason["writes_queue_timeout"] == 1
        # The refusal is answered outside the framework and still carries its headers.
        assert refused.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" in refused.headers
        assert (await held.release()).startswith(b"HTTP/1.1 201")
        page = expect(await bob.get(path), 200)
        assert [m["client_msg_id"] for m in page["items"]] == ["held"]
        # Sent again with the same client_msg_id once the node has room: stored once.
        expect(await bob.post(path, {"client_msg_id": "late", "text": "hi"}), 201)
        page = expect(await bob.get(path), 200)
        assert [m["client_msg_id"] for m in page["items"]] == ["held", "late"]


def test_admission_is_the_outermost_layer(settings: Settings) -> None:
    """A refusal must not pay for the framework's layers (errors, telemetry, body limit,
    security headers): admission wraps them all."""
    app = create_app(settings)
    assert isinstance(app.build_middleware_stack(), AdmissionControl)


async def test_sends_over_the_sessions_rate_get_429_and_are_not_stored(
    settings: Settings,
) -> None:
    # One token every 5 s: the fourth send in a row cannot have earned one.
    async with node(settings, send_rate_per_user=0.2, send_burst=3) as n, n.client() as http:
        org, (ann, bob) = await team(http, "Ann", "Bob")
        group = await create_group(ann, org, bob)
        path = f"/conversations/{group}/messages"
        for i in range(3):
            expect(await ann.post(path, {"client_msg_id": f"a{i}", "text": "hi"}), 201)
        refused = await ann.post(path, {"client_msg_id": "a3", "text": "hi"})
        assert_refused(refused, 429, "rate_limited")
        # Another person's bucket is their own; reading is not limited.
        expect(await bob.post(path, {"client_msg_id": "b0", "text": "hello"}), 201)
        page = expect(await ann.get(path), 200)
        assert [m["client_msg_id"] for m in page["items"]] == ["a0", "a1", "a2", "b0"]
        # Honouring Retry-After is enough to be let in again.
        await asyncio.sleep(int(refused.headers["retry-after"]))
        expect(await ann.post(path, {"client_msg_id": "a3", "text": "hi"}), 201)


async def test_under_a_burst_every_acknowledged_message_is_stored_and_nothing_else(
    settings: Settings,
) -> None:
    limits = {"max_inflight_writes": 1, "max_queued_requests": 2, "queue_timeout_ms": 100}
    async with node(settings, **limits) as n, n.client() as http:
        org, people = await team(http, "A", "B", "C", "D")
        group = await create_group(people[0], org, *people[1:])
        path = f"/conversations/{group}/messages"

        async def send(i: int) -> tuple[str, httpx.Response]:
            cmid = f"burst-{i}-{uuid.uuid4().hex[:6]}"
            sender = people[i % len(people)]
            return cmid, await sender.post(path, {"client_msg_id": cmid, "text": str(i)})

        sends = asyncio.gather(*(send(i) for i in range(60)))
        # Reads during the burst get in past the refused writes.
        reads = await asyncio.gather(*(people[i % 4].get(path) for i in range(20)))
        answers = await sends
        assert [r.status_code for r in reads] == [200] * 20
        acknowledged = {cmid for cmid, r in answers if r.status_code == 201}
        refused = [r for _, r in answers if r.status_code != 201]
        assert acknowledged and refused, [r.status_code for _, r in answers]
        for response in refused:
            assert_refused(response, 503, "overloaded")
        page = expect(await people[0].get(path, params={"limit": 200}), 200)
        stored = [m["client_msg_id"] for m in page["items"]]
        assert sorted(stored) == sorted(acknowledged)
        assert [m["seq"] for m in page["items"]] == list(range(1, len(stored) + 1))


async def test_websocket_over_the_connection_limit_is_refused_with_503(
    settings: Settings,
) -> None:
    async with node(settings, max_connections=1) as n, n.client() as http:
        ann = await register(http)
        url = f"ws://{n.address}/api/v1/ws?token={ann.token}"
        async with websockets.connect(url) as first:
            assert orjson.loads(await first.recv())["type"] == "ready"
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(url):
                    pass
            answer = refused.value.response
            assert answer.status_code == 503
            assert int(answer.headers["retry-after"]) >= 1
            assert orjson.loads(answer.body)["error"]["code"] == "overloaded"
        # Once the first socket is gone its place is free again.
        for _ in range(500):
            if n.admission.connections == 0:
                break
            await asyncio.sleep(0.01)
        async with websockets.connect(url) as again:
            assert orjson.loads(await again.recv())["type"] == "ready"


async def test_a_reconnect_storm_is_refused_beyond_the_connect_rate(settings: Settings) -> None:
    async with node(settings, connect_rate=0.01, connect_burst=2) as n, n.client() as http:
        ann = await register(http)
        url = f"ws://{n.address}/api/v1/ws?token={ann.token}"
        async with websockets.connect(url) as one, websockets.connect(url) as two:
            for sock in (one, two):
                assert orjson.loads(await sock.recv())["type"] == "ready"
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(url):
                    pass
            assert refused.value.response.status_code == 503
            # 0.01 connects a second: the next token is about 100 s away.
            assert int(refused.value.response.headers["retry-after"]) >= 50
        assert n.admission.stats.connections_refused == 1


def test_a_standing_queue_shortens_the_wait_to_the_target(settings: Settings) -> None:
    """CoDel's rule, on a fake clock (the edge of the world): a queue that has been
    non-empty for the whole interval is standing; one that empties is not."""
    at = [100.0]
    gate = Admission(settings, clock=lambda: at[0]).writes
    assert not gate.queue_standing()
    loop = asyncio.new_event_loop()
    try:
        gate._waiters.append((loop.create_future(), at[0]))
        at[0] += STANDING_QUEUE_S / 2
        assert not gate.queue_standing()
        at[0] += STANDING_QUEUE_S
        assert gate.queue_standing()
        gate._waiters.clear()
        assert not gate.queue_standing()
    finally:
        loop.close()


async def test_a_standing_queue_refuses_at_once_and_passes_over_stale_waiters(
    settings: Settings,
) -> None:
    """While the queue stands (fake clock), at most one in-flight limit's worth of writes
    wait, and a freed slot skips a waiter older than the target (refusing it) for a fresh
    one; a refused waiter never holds a slot."""
    at = [100.0]
    limits = {
        "max_inflight_writes": 2,
        "max_queued_requests": 10,
        "queue_target_ms": 10_000,
        "queue_timeout_ms": 60_000,
    }
    gate = Admission(settings.model_copy(update=limits), lambda: at[0]).writes
    assert await gate.enter() is None
    assert await gate.enter() is None
    stale = asyncio.create_task(gate.enter())  # the queue was empty: not standing yet
    await asyncio.sleep(0)  # the task runs up to its wait
    assert gate.queued == 1
    at[0] += 20  # the queue has stood for 20 s, longer than the target
    fresh = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    assert gate.queued == 2
    assert gate.queue_standing()
    assert await gate.enter() == "queue_full"  # two slots' worth already wait
    gate.leave()
    assert await stale == "queue_timeout"
    assert await fresh is None
    assert (gate.inflight, gate.queued) == (2, 0)
    gate.leave()
    gate.leave()
    assert gate.inflight == 0


def test_retry_after_grows_with_the_overload_up_to_its_cap(settings: Settings) -> None:
    """Refused per admitted in the last second, between 1 s and the cap (fake clock)."""
    at = [1000.0]
    admission = Admission(settings.model_copy(update={"max_retry_after_s": 12}), lambda: at[0])
    assert admission.retry_after_s() == 1
    for _ in range(2):
        admission._count(refused=False)
    for _ in range(20):
        admission._count(refused=True)
    at[0] += 1
    admission._count(refused=False)  # a new second: the last one counts
    assert admission.retry_after_s() == 10
    for _ in range(1000):
        admission._count(refused=True)
    at[0] += 1
    admission._count(refused=True)
    assert admission.retry_after_s() == 12
    at[0] += 5  # a quiet gap: nothing from long ago counts
    admission._count(refused=False)
    assert admission.retry_after_s() == 1
