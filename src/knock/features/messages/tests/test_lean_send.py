"""POST /conversations/{id}/messages as a lean route (core/http.py ``LeanRoute``): it answers
what it takes exactly as the framework's route would, and leaves the rest, body and all,
to that route."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from starlette.types import Message, Receive, Scope, Send

from knock.core.http import LeanRoute
from knock.features.messages.routes import SEND_PATH, lean_send
from knock.testing import Member, create_group, create_org, expect, join_org, register


class Framework:
    """Stands where the framework's route would: notes what reached it and the body it got."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message: Message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": hashlib.sha256(body).digest()})


def _body(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"client_msg_id": uuid.uuid4().hex, "text": text, **extra}


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data[:10]
    yield data[10:]


async def _two_in_a_group(http: httpx.AsyncClient) -> tuple[Member, Member, str]:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org = await create_org(ann)
    await join_org(ann, org, bob)
    return ann, bob, await create_group(ann, org, bob)


async def test_the_lean_route_sends_and_answers_errors_itself(
    app: Any, http: httpx.AsyncClient
) -> None:
    ann, bob, group = await _two_in_a_group(http)
    outsider = await register(http, "Cat")
    node = app.state.node
    framework = Framework()
    lean = LeanRoute(framework, "POST", SEND_PATH, lean_send(node.messages, node.accounts))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lean), base_url="http://testserver"
    ) as client:
        path = f"/api/v1/conversations/{group}/messages"
        first = _body("from the lean route")
        sent = await client.post(path, json=first, headers=ann.auth)
        assert sent.status_code == 201, sent.text
        assert sent.headers["content-type"] == "application/json"
        message = sent.json()
        assert (message["text"], message["sender_id"], message["unread_count"]) == (
            "from the lean route",
            ann.id,
            1,
        )
        again = await client.post(path, json=first, headers=ann.auth)
        assert (again.status_code, again.json()) == (200, message)
        reused = await client.post(path, json={**first, "text": "other"}, headers=ann.auth)
        assert reused.status_code == 409
        assert reused.json()["error"]["code"] == "client_msg_id_reused"
        hidden = await client.post(path, json=_body(), headers=outsider.auth)
        assert hidden.status_code == 404
        assert hidden.json() == {"error": {"code": "not_found", "message": "Not found."}}
        assert framework.bodies == []
    # Bob sees it, as any message.
    listed = expect(await bob.get(f"/conversations/{group}/messages"), 200)
    assert [m["id"] for m in listed["items"]][-1] == message["id"]


async def test_what_the_lean_route_does_not_take_reaches_the_framework_whole(
    app: Any, http: httpx.AsyncClient
) -> None:
    ann, _, group = await _two_in_a_group(http)
    node = app.state.node
    framework = Framework()
    lean = LeanRoute(framework, "POST", SEND_PATH, lean_send(node.messages, node.accounts))
    path = f"/api/v1/conversations/{group}/messages"
    good = orjson.dumps(_body())
    json = {"content-type": "application/json"}
    left: list[tuple[str, bytes, dict[str, str]]] = [
        ("no token", good, json),
        ("a bad token", good, {**json, "authorization": "Bearer nope"}),
        ("not JSON", b"{nope", {**json, **ann.auth}),
        ("not valid", orjson.dumps({"text": "no client_msg_id"}), {**json, **ann.auth}),
        ("a form", b"text=hi", {"content-type": "application/x-www-form-urlencoded", **ann.auth}),
    ]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lean), base_url="http://testserver"
    ) as client:
        for why, content, headers in left:
            answer = await client.post(path, content=content, headers=headers)
            assert answer.status_code == 299, why
            assert answer.content == hashlib.sha256(content).digest(), why
        chunked = await client.post(path, content=_chunks(good), headers={**json, **ann.auth})
        assert chunked.status_code == 299
        other = await client.post(f"{path}/x", content=good, headers={**json, **ann.auth})
        assert other.status_code == 299
    assert framework.bodies == [content for _, content, _ in left] + [good, good]
    # Nothing was sent.
    assert expect(await ann.get(f"/conversations/{group}/messages"), 200)["items"] == []


async def test_the_lean_answer_is_the_framework_answer(http: httpx.AsyncClient) -> None:
    ann, _, group = await _two_in_a_group(http)
    path = f"/conversations/{group}/messages"
    headers = {**ann.auth, "content-type": "application/json"}
    body = orjson.dumps(_body("same answer"))
    # A chunked body is left to the framework's route; a sized one is the lean route's.
    created = await http.post(path, content=_chunks(body), headers=headers)
    assert created.status_code == 201, created.text
    by_framework = await http.post(path, content=_chunks(body), headers=headers)
    by_lean = await http.post(path, content=body, headers=headers)
    assert by_framework.status_code == by_lean.status_code == 200
    assert by_lean.content == by_framework.content
    assert by_lean.headers.multi_items() == by_framework.headers.multi_items()
    fresh = await http.post(path, content=orjson.dumps(_body("fresh")), headers=headers)
    assert fresh.status_code == 201
    assert list(fresh.json()) == list(created.json())
    assert sorted(fresh.headers) == sorted(created.headers)
