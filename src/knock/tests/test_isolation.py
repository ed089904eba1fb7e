"""The isolation matrix: every route of the API against every kind of caller who may not
see the thing it names.

DESIGN.md: a missing, bad or revoked token answers 401; anything a caller may not see
answers 404, exactly like a thing that does not exist. "Exactly" is checked byte for byte:
the refusal and the answer for a random nonexistent id (same caller, same request shape)
have the same status, body and headers (date and content-length aside).

ROUTES below says, for each route, which resource it names and how to build a valid
request; a route added to the app without an entry here fails
``test_the_matrix_covers_every_route``.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

import httpx
import orjson
import pytest
import websockets
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from PIL import Image

from knock.core.ids import new_id
from knock.features.calls.tests.voice_client import offer_sdp
from knock.testing import (
    Member,
    create_group,
    create_org,
    expect,
    join_org,
    register,
    send_text,
)

PREFIX = "/api/v1"
# Routes anyone may call without a token, and the web client's catch-all (public files).
UNGUARDED = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/health"),
    ("GET", "/{path:path}"),
    ("HEAD", "/{path:path}"),
}
PASSWORD = "correct horse battery"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Receipts are sent in the reading transaction, so the WebSocket test can rely on the
    # order of frames instead of waiting for a timer.
    # The world's call has nobody in it: it must outlive the test (a call nobody joined
    # ends after the lease).
    return {"receipt_coalesce_ms": 0, "call_lease_s": 3600}


@dataclass(frozen=True)
class Targets:
    """The ids a request names. Replacing the one a route is scoped by with a random id
    gives the "does not exist" twin of the request."""

    org_id: str
    conversation_id: str
    call_id: str  # a call going on in the conversation (its "does not exist" twin goes with it)
    call_offer: str  # an SDP offer to join it with
    message_id: str
    member_id: str  # a member of the org whose role is changed
    leaver_id: str  # removed from the org / from the conversation
    invite_code: str
    media_id: str  # an image sent in the conversation
    album_id: str  # a conversation album of the conversation, holding one item
    album_item_id: str  # that item (the owner's photo message)
    album_upload_id: str  # an image the owner uploaded and has not sent, to add to the album
    department_id: str  # a department of the org
    template_id: str  # the built-in general request template
    approval_id: str  # the insider's approval, with the owner (admin stand-in) approving
    rejectable_id: str  # another of the insider's, for the owner to reject
    own_approval_id: str  # the owner's own, to withdraw and resubmit
    ding_id: str  # a DING the owner sent to the insider and the removed member
    received_ding_id: str  # a DING the insider sent to the owner and the removed member


Build = Callable[[Targets], tuple[str, Any]]


def _template() -> dict[str, Any]:
    return {
        "name": "Trip",
        "fields": [
            {"key": "title", "label": "Title", "type": "text", "required": True},
            {"key": "details", "label": "Details", "type": "long_text"},
        ],
        "flow": {"steps": [{"name": "Boss", "approvers": {"kind": "dept_head"}}]},
    }


def _approval(t: Targets) -> dict[str, Any]:
    return {
        "template_id": t.template_id,
        "client_request_id": uuid.uuid4().hex,
        "values": {"title": "Trip", "details": "To the coast"},
    }


class Upload:
    """A request body that is a multipart upload of a small PNG, not JSON."""


def png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(image, format="PNG")
    return image.getvalue()


@dataclass(frozen=True)
class Route:
    # own: about the caller only · session: the caller's token · invite: the code is the
    # secret · org / conversation / message / media: what the caller must be allowed to see
    scope: str
    build: Build
    legit_status: int


def _ding(*recipient_ids: str) -> dict[str, Any]:
    return {"client_ding_id": uuid.uuid4().hex, "recipient_ids": list(recipient_ids), "text": "!"}


def _msg() -> dict[str, str]:
    return {"client_msg_id": uuid.uuid4().hex, "text": "hello"}


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/v1/auth/logout"): Route("session", lambda t: ("/auth/logout", None), 204),
    ("GET", "/api/v1/me"): Route("own", lambda t: ("/me", None), 200),
    ("POST", "/api/v1/orgs"): Route("own", lambda t: ("/orgs", {"name": "Mine"}), 201),
    ("GET", "/api/v1/orgs"): Route("own", lambda t: ("/orgs", None), 200),
    ("GET", "/api/v1/conversations"): Route(
        "own", lambda t: (f"/conversations?org_id={t.org_id}", None), 200
    ),
    ("GET", "/api/v1/orgs/{org_id}"): Route("org", lambda t: (f"/orgs/{t.org_id}", None), 200),
    ("GET", "/api/v1/orgs/{org_id}/members"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/members", None), 200
    ),
    ("PUT", "/api/v1/orgs/{org_id}/members/{user_id}"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/members/{t.member_id}", {"role": "admin"}), 200
    ),
    ("DELETE", "/api/v1/orgs/{org_id}/members/{user_id}"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/members/{t.leaver_id}", None), 204
    ),
    ("POST", "/api/v1/orgs/{org_id}/invites"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/invites", {"role": "member"}), 201
    ),
    ("POST", "/api/v1/orgs/{org_id}/departments"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/departments", {"name": "Sales"}), 201
    ),
    ("GET", "/api/v1/orgs/{org_id}/departments"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/departments", None), 200
    ),
    ("POST", "/api/v1/orgs/{org_id}/conversations"): Route(
        "org",
        lambda t: (
            f"/orgs/{t.org_id}/conversations",
            {"kind": "group", "title": "New", "member_ids": []},
        ),
        201,
    ),
    ("GET", "/api/v1/invites/{code}"): Route(
        "invite", lambda t: (f"/invites/{t.invite_code}", None), 200
    ),
    ("POST", "/api/v1/invites/{code}/accept"): Route(
        "invite", lambda t: (f"/invites/{t.invite_code}/accept", None), 200
    ),
    ("GET", "/api/v1/conversations/{conversation_id}"): Route(
        "conversation", lambda t: (f"/conversations/{t.conversation_id}", None), 200
    ),
    ("PATCH", "/api/v1/conversations/{conversation_id}"): Route(
        "conversation", lambda t: (f"/conversations/{t.conversation_id}", {"title": "T"}), 200
    ),
    ("GET", "/api/v1/conversations/{conversation_id}/members"): Route(
        "conversation", lambda t: (f"/conversations/{t.conversation_id}/members", None), 200
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/members"): Route(
        "conversation",
        lambda t: (f"/conversations/{t.conversation_id}/members", {"user_ids": [t.member_id]}),
        200,
    ),
    ("DELETE", "/api/v1/conversations/{conversation_id}/members/{user_id}"): Route(
        "conversation",
        lambda t: (f"/conversations/{t.conversation_id}/members/{t.leaver_id}", None),
        204,
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): Route(
        "conversation", lambda t: (f"/conversations/{t.conversation_id}/messages", _msg()), 201
    ),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): Route(
        "conversation",
        lambda t: (f"/conversations/{t.conversation_id}/messages?after_seq=0", None),
        200,
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/read"): Route(
        "conversation",
        lambda t: (f"/conversations/{t.conversation_id}/read", {"up_to_seq": 1}),
        204,
    ),
    # Call routes are scoped by the conversation: its twin names a random call too.
    ("POST", "/api/v1/conversations/{conversation_id}/calls"): Route(
        "conversation", lambda t: (f"/conversations/{t.conversation_id}/calls", None), 200
    ),
    ("GET", "/api/v1/conversations/{conversation_id}/call"): Route(
        "conversation", lambda t: (f"/conversations/{t.conversation_id}/call", None), 200
    ),
    ("GET", "/api/v1/calls/{call_id}"): Route(
        "conversation", lambda t: (f"/calls/{t.call_id}", None), 200
    ),
    ("POST", "/api/v1/calls/{call_id}/join"): Route(
        "conversation", lambda t: (f"/calls/{t.call_id}/join", {"sdp": t.call_offer}), 200
    ),
    ("POST", "/api/v1/calls/{call_id}/mute"): Route(
        "conversation", lambda t: (f"/calls/{t.call_id}/mute", {"muted": True}), 200
    ),
    ("POST", "/api/v1/calls/{call_id}/leave"): Route(
        "conversation", lambda t: (f"/calls/{t.call_id}/leave", None), 200
    ),
    ("POST", "/api/v1/calls/{call_id}/end"): Route(
        "conversation", lambda t: (f"/calls/{t.call_id}/end", None), 200
    ),
    ("GET", "/api/v1/messages/{message_id}"): Route(
        "message", lambda t: (f"/messages/{t.message_id}", None), 200
    ),
    ("PATCH", "/api/v1/messages/{message_id}"): Route(
        "message", lambda t: (f"/messages/{t.message_id}", {"text": "changed"}), 200
    ),
    ("POST", "/api/v1/messages/{message_id}/recall"): Route(
        "message", lambda t: (f"/messages/{t.message_id}/recall", None), 200
    ),
    ("GET", "/api/v1/messages/{message_id}/receipts"): Route(
        "message", lambda t: (f"/messages/{t.message_id}/receipts", None), 200
    ),
    ("POST", "/api/v1/messages/{message_id}/open"): Route(
        "message", lambda t: (f"/messages/{t.message_id}/open", None), 200
    ),
    ("POST", "/api/v1/media"): Route("own", lambda t: ("/media", Upload()), 201),
    ("GET", "/api/v1/media/{media_id}"): Route(
        "media", lambda t: (f"/media/{t.media_id}?thumb=1", None), 200
    ),
    ("POST", "/api/v1/orgs/{org_id}/albums"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/albums", {"title": "Team photos"}), 201
    ),
    ("GET", "/api/v1/orgs/{org_id}/albums"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/albums", None), 200
    ),
    ("GET", "/api/v1/albums/{album_id}"): Route(
        "album", lambda t: (f"/albums/{t.album_id}", None), 200
    ),
    ("PATCH", "/api/v1/albums/{album_id}"): Route(
        "album", lambda t: (f"/albums/{t.album_id}", {"title": "Renamed"}), 200
    ),
    ("DELETE", "/api/v1/albums/{album_id}"): Route(
        "album", lambda t: (f"/albums/{t.album_id}", None), 204
    ),
    ("POST", "/api/v1/albums/{album_id}/items"): Route(
        "album",
        lambda t: (
            f"/albums/{t.album_id}/items",
            {"client_item_id": "iso", "media_id": t.album_upload_id},
        ),
        201,
    ),
    ("GET", "/api/v1/albums/{album_id}/items"): Route(
        "album", lambda t: (f"/albums/{t.album_id}/items", None), 200
    ),
    ("PATCH", "/api/v1/albums/{album_id}/items/{item_id}"): Route(
        "album",
        lambda t: (f"/albums/{t.album_id}/items/{t.album_item_id}", {"caption": "Us"}),
        200,
    ),
    ("DELETE", "/api/v1/albums/{album_id}/items/{item_id}"): Route(
        "album", lambda t: (f"/albums/{t.album_id}/items/{t.album_item_id}", None), 204
    ),
    ("POST", "/api/v1/orgs/{org_id}/dings"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/dings", _ding(t.member_id)), 201
    ),
    ("GET", "/api/v1/orgs/{org_id}/dings"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/dings?box=sent", None), 200
    ),
    ("GET", "/api/v1/orgs/{org_id}/ding-settings"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/ding-settings", None), 200
    ),
    ("PUT", "/api/v1/orgs/{org_id}/ding-settings"): Route(
        "org",
        lambda t: (
            f"/orgs/{t.org_id}/ding-settings",
            {
                "email_after_s": 120,
                "gateway_after_s": 600,
                "email_enabled": True,
                "gateway_enabled": True,
            },
        ),
        200,
    ),
    ("GET", "/api/v1/dings/{ding_id}"): Route("ding", lambda t: (f"/dings/{t.ding_id}", None), 200),
    ("POST", "/api/v1/dings/{ding_id}/confirm"): Route(
        "ding", lambda t: (f"/dings/{t.received_ding_id}/confirm", None), 200
    ),
    ("POST", "/api/v1/dings/{ding_id}/reding"): Route(
        "ding", lambda t: (f"/dings/{t.ding_id}/reding", {}), 200
    ),
    ("PUT", "/api/v1/orgs/{org_id}/departments/{department_id}"): Route(
        "org",
        lambda t: (f"/orgs/{t.org_id}/departments/{t.department_id}", {"head_id": t.member_id}),
        200,
    ),
    ("GET", "/api/v1/orgs/{org_id}/approval-templates"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/approval-templates", None), 200
    ),
    ("POST", "/api/v1/orgs/{org_id}/approval-templates"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/approval-templates", _template()), 201
    ),
    ("GET", "/api/v1/approval-templates/{template_id}"): Route(
        "template", lambda t: (f"/approval-templates/{t.template_id}?version=1", None), 200
    ),
    ("PUT", "/api/v1/approval-templates/{template_id}"): Route(
        "template", lambda t: (f"/approval-templates/{t.template_id}", _template()), 200
    ),
    ("DELETE", "/api/v1/approval-templates/{template_id}"): Route(
        "template", lambda t: (f"/approval-templates/{t.template_id}", None), 204
    ),
    ("POST", "/api/v1/orgs/{org_id}/approvals"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/approvals", _approval(t)), 201
    ),
    ("GET", "/api/v1/orgs/{org_id}/approvals"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/approvals?box=submitted", None), 200
    ),
    ("GET", "/api/v1/orgs/{org_id}/approvals.csv"): Route(
        "org", lambda t: (f"/orgs/{t.org_id}/approvals.csv", None), 200
    ),
    ("GET", "/api/v1/approvals/{approval_id}"): Route(
        "approval", lambda t: (f"/approvals/{t.approval_id}", None), 200
    ),
    ("GET", "/api/v1/approvals/{approval_id}/audit"): Route(
        "approval", lambda t: (f"/approvals/{t.approval_id}/audit", None), 200
    ),
    ("POST", "/api/v1/approvals/{approval_id}/approve"): Route(
        "approval", lambda t: (f"/approvals/{t.approval_id}/approve", {"comment": "ok"}), 200
    ),
    ("POST", "/api/v1/approvals/{approval_id}/reject"): Route(
        "approval", lambda t: (f"/approvals/{t.rejectable_id}/reject", {"comment": "no"}), 200
    ),
    ("POST", "/api/v1/approvals/{approval_id}/withdraw"): Route(
        "approval", lambda t: (f"/approvals/{t.own_approval_id}/withdraw", None), 200
    ),
    ("POST", "/api/v1/approvals/{approval_id}/resubmit"): Route(
        "approval", lambda t: (f"/approvals/{t.own_approval_id}/resubmit", {}), 200
    ),
}
# Run last among the legitimate calls, in this order: they end a call, a message, someone's
# membership (of the conversation before the org, which ends both) or a token.
DESTRUCTIVE = [
    ("DELETE", "/api/v1/albums/{album_id}/items/{item_id}"),
    ("DELETE", "/api/v1/albums/{album_id}"),
    ("DELETE", "/api/v1/approval-templates/{template_id}"),
    ("POST", "/api/v1/calls/{call_id}/leave"),
    ("POST", "/api/v1/calls/{call_id}/end"),
    ("POST", "/api/v1/messages/{message_id}/recall"),
    ("DELETE", "/api/v1/conversations/{conversation_id}/members/{user_id}"),
    ("DELETE", "/api/v1/orgs/{org_id}/members/{user_id}"),
    ("POST", "/api/v1/auth/logout"),
]


def test_the_matrix_covers_every_route(app: Any) -> None:
    # Routers included into the app are flattened (with their prefixes) by FastAPI.
    contexts = list(iter_route_contexts(app.routes))
    served = {
        (method, str(context.path))
        for context in contexts
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }
    assert ("GET", "/api/v1/me") in served
    sockets = {str(c.path) for c in contexts if isinstance(c.original_route, APIWebSocketRoute)}
    assert sockets == {"/api/v1/ws"}, f"WebSocket routes without isolation tests: {sockets}"
    missing = sorted(served - UNGUARDED - set(ROUTES))
    assert missing == [], f"routes without an isolation matrix entry: {missing}"
    stale = sorted(set(ROUTES) - served)
    assert stale == [], f"matrix entries for routes that no longer exist: {stale}"


def nonexistent(targets: Targets, scope: str) -> Targets:
    """The same request naming a random id (or code) where the real one was."""
    if scope == "org":
        return replace(targets, org_id=new_id())
    if scope == "conversation":
        return replace(targets, conversation_id=new_id(), call_id=new_id())
    if scope == "message":
        return replace(targets, message_id=new_id())
    if scope == "media":
        return replace(targets, media_id=new_id())
    if scope == "album":
        return replace(targets, album_id=new_id(), album_item_id=new_id())
    if scope == "ding":
        return replace(targets, ding_id=new_id(), received_ding_id=new_id())
    if scope == "invite":
        return replace(targets, invite_code=uuid.uuid4().hex[:16])
    if scope == "template":
        return replace(targets, template_id=new_id())
    if scope == "approval":
        return replace(
            targets, approval_id=new_id(), rejectable_id=new_id(), own_approval_id=new_id()
        )
    return targets


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted(
        (name.lower(), value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("date", "content-length")
    )
    return response.status_code, response.content, headers


@dataclass
class World:
    http: httpx.AsyncClient
    owner: Member  # owns the org, in the conversation, sent `message`
    insider: Member  # a member of the org and of the conversation
    outsider: Member  # a member of the org, not of the conversation
    stranger: Member  # a member of another org only
    removed: Member  # was in the org and the conversation, sent a message, was removed
    revoked_token: str  # the owner's token from a session that logged out
    targets: Targets
    removed_message_id: str  # the message the removed member sent while a member
    removed_media_id: str  # an image the removed member uploaded and sent while a member


async def build_world(http: httpx.AsyncClient) -> World:
    owner, insider, outsider, removed, leaver, stranger = [
        await register(http, name) for name in ("Ann", "Bob", "Mia", "Rex", "Dan", "Sam")
    ]
    org_id = await create_org(owner, "Acme")
    await join_org(owner, org_id, insider, outsider, removed, leaver)
    await create_org(stranger, "Elsewhere")
    conversation_id = await create_group(owner, org_id, insider, removed, leaver, title="Plans")
    message = await send_text(owner, conversation_id, "the plan")
    call_id = expect(await insider.post(f"/conversations/{conversation_id}/calls"), 201)["id"]
    removed_message = await send_text(removed, conversation_id, "my idea")
    await send_text(insider, conversation_id, "agreed")
    media_id = await send_image(owner, conversation_id)
    removed_media_id = await send_image(removed, conversation_id)
    album_id, album_item_id, album_upload_id = await make_album(owner, org_id, conversation_id)
    # DINGs the removed member received while in the team.
    ding_id = expect(await owner.post(f"/orgs/{org_id}/dings", _ding(insider.id, removed.id)), 201)[
        "id"
    ]
    received_ding_id = expect(
        await insider.post(f"/orgs/{org_id}/dings", _ding(owner.id, removed.id)), 201
    )["id"]
    # Approvals: the insider and the owner are in no department, so the team's admins (the
    # owner) stand in as approvers; the others take no part.
    department_id = expect(await owner.post(f"/orgs/{org_id}/departments", {"name": "R&D"}), 201)[
        "id"
    ]
    templates = expect(await owner.get(f"/orgs/{org_id}/approval-templates"), 200)["items"]
    template_id = next(t["id"] for t in templates if t["builtin"] == "general")
    blank = Targets(*([""] * len(fields(Targets))))
    insiders = [
        expect(
            await insider.post(
                f"/orgs/{org_id}/approvals", _approval(replace(blank, template_id=template_id))
            ),
            201,
        )["id"]
        for _ in range(2)
    ]
    own_approval = expect(
        await owner.post(
            f"/orgs/{org_id}/approvals", _approval(replace(blank, template_id=template_id))
        ),
        201,
    )["id"]
    expect(await owner.delete(f"/orgs/{org_id}/members/{removed.id}"), 204)

    # An invite used up: what a caller without a live code can name.
    used_up = expect(await owner.post(f"/orgs/{org_id}/invites", {"max_uses": 1}), 201)["code"]
    late = await register(http, "Lea")
    expect(await late.post(f"/invites/{used_up}/accept"), 200)

    session = expect(
        await http.post("/auth/login", json={"email": owner.email, "password": PASSWORD}), 200
    )
    expect(
        await http.post("/auth/logout", headers={"Authorization": f"Bearer {session['token']}"}),
        204,
    )
    return World(
        http=http,
        owner=owner,
        insider=insider,
        outsider=outsider,
        stranger=stranger,
        removed=removed,
        revoked_token=session["token"],
        targets=Targets(
            org_id=org_id,
            conversation_id=conversation_id,
            call_id=call_id,
            call_offer=await offer_sdp(),
            message_id=message["id"],
            member_id=outsider.id,
            leaver_id=leaver.id,
            invite_code=used_up,
            media_id=media_id,
            album_id=album_id,
            album_item_id=album_item_id,
            album_upload_id=album_upload_id,
            department_id=department_id,
            template_id=template_id,
            approval_id=insiders[0],
            rejectable_id=insiders[1],
            own_approval_id=own_approval,
            ding_id=ding_id,
            received_ding_id=received_ding_id,
        ),
        removed_message_id=removed_message["id"],
        removed_media_id=removed_media_id,
    )


async def make_album(owner: Member, org_id: str, conversation_id: str) -> tuple[str, str, str]:
    """A conversation album holding the owner's photo message; its id, the item's id, and
    another photo of the owner's (uploaded, not sent) to add to it."""
    body = {"title": "Plans", "conversation_id": conversation_id}
    album = expect(await owner.post(f"/orgs/{org_id}/albums", body), 201)["id"]
    files = {"file": ("photo.png", png(), "image/png")}
    photo = expect(await owner.http.post("/media", files=files, headers=owner.auth), 201)["id"]
    sent = {"client_msg_id": uuid.uuid4().hex, "text": "", "type": "image", "media_ids": [photo]}
    message = expect(await owner.post(f"/conversations/{conversation_id}/messages", sent), 201)
    item = {"client_item_id": uuid.uuid4().hex, "message_id": message["id"]}
    item_id = expect(await owner.post(f"/albums/{album}/items", item), 201)["id"]
    upload = expect(await owner.http.post("/media", files=files, headers=owner.auth), 201)["id"]
    return album, item_id, upload


async def send_image(sender: Member, conversation_id: str) -> str:
    """Upload a picture and send it in the conversation; the media id."""
    files = {"file": ("photo.png", png(), "image/png")}
    media = expect(await sender.http.post("/media", files=files, headers=sender.auth), 201)
    body = {
        "client_msg_id": uuid.uuid4().hex,
        "text": "",
        "type": "image",
        "media_ids": [media["id"]],
    }
    expect(await sender.post(f"/conversations/{conversation_id}/messages", body), 201)
    return str(media["id"])


async def call(
    http: httpx.AsyncClient, method: str, route: Route, targets: Targets, token: str | None
) -> httpx.Response:
    path, body = route.build(targets)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if isinstance(body, Upload):
        files = {"file": ("photo.png", png(), "image/png")}
        return await http.request(method, path, files=files, headers=headers)
    return await http.request(method, path, json=body, headers=headers)


async def assert_indistinguishable(
    world: World, method: str, template: str, token: str | None, targets: Targets, status: int
) -> None:
    route = ROUTES[(method, template)]
    refused = await call(world.http, method, route, targets, token)
    missing = await call(world.http, method, route, nonexistent(targets, route.scope), token)
    where = f"{method} {template}"
    assert refused.status_code == status, f"{where}: {refused.status_code} {refused.text}"
    assert comparable(refused) == comparable(missing), (
        f"{where}: the refusal differs from the answer for a nonexistent id:\n"
        f"{comparable(refused)}\n{comparable(missing)}"
    )
    if status in (401, 404):
        code = "unauthorized" if status == 401 else "not_found"
        assert orjson.loads(refused.content)["error"]["code"] == code


async def test_every_route_refuses_every_caller_who_may_not_see(
    http: httpx.AsyncClient,
) -> None:
    world = await build_world(http)
    t = world.targets
    known_ids = [
        t.org_id,
        t.conversation_id,
        t.message_id,
        t.media_id,
        world.removed_message_id,
        world.removed_media_id,
    ]
    checked = 0
    for (method, template), route in ROUTES.items():
        # Without a token or with a revoked one: 401, whatever the ids name.
        for token in (None, world.revoked_token):
            await assert_indistinguishable(world, method, template, token, t, 401)
            checked += 1
        if route.scope in (
            "org",
            "conversation",
            "message",
            "media",
            "ding",
            "template",
            "approval",
            "album",
        ):
            callers = [world.stranger, world.removed]
            # Templates are for every member; approvals for their participants only.
            if route.scope not in ("org", "template"):
                callers.append(world.outsider)
            for caller in callers:
                targets = t
                if caller is world.removed:
                    # What they once had: their own message; leaving on their own.
                    targets = replace(t, message_id=world.removed_message_id, leaver_id=caller.id)
                await assert_indistinguishable(world, method, template, caller.token, targets, 404)
                checked += 1
        elif route.scope == "invite":
            # The code is the secret: a used-up code reads exactly like an unknown one.
            for caller in (world.stranger, world.removed, world.outsider):
                await assert_indistinguishable(world, method, template, caller.token, t, 404)
                checked += 1
        elif route.scope == "own":
            # About the caller only: answered, and nothing of the org they are not in.
            for caller in (world.stranger, world.removed):
                answer = await call(http, method, route, t, caller.token)
                assert answer.status_code == route.legit_status, answer.text
                assert not any(i in answer.text for i in known_ids), (
                    f"{method} {template} shows {caller.display_name} another team's data: "
                    f"{answer.text}"
                )
                checked += 1
    assert checked > 3 * len(ROUTES)

    # The requests above are valid: the people who may, can (and nothing was done by the
    # refused ones: the deletions below still find their targets).
    live_code = expect(await world.owner.post(f"/orgs/{t.org_id}/invites", {}), 201)["code"]
    legit_targets = replace(t, invite_code=live_code)
    order = [key for key in ROUTES if key not in DESTRUCTIVE] + DESTRUCTIVE
    for method, template in order:
        route = ROUTES[(method, template)]
        token = world.owner.token
        if route.scope == "session":
            login = {"email": world.insider.email, "password": PASSWORD}
            token = expect(await http.post("/auth/login", json=login), 200)["token"]
        answer = await call(http, method, route, legit_targets, token)
        assert answer.status_code == route.legit_status, (
            f"{method} {template} by the owner: {answer.status_code} {answer.text}"
        )


async def test_receipts_of_a_message_are_hidden_from_other_members_like_a_missing_one(
    http: httpx.AsyncClient,
) -> None:
    """In the conversation but neither the sender nor an admin: 404, as if it did not exist."""
    world = await build_world(http)
    template = "/api/v1/messages/{message_id}/receipts"
    await assert_indistinguishable(world, "GET", template, world.insider.token, world.targets, 404)


async def test_websocket_refuses_missing_and_revoked_tokens(
    http: httpx.AsyncClient, live: str
) -> None:
    world = await build_world(http)
    answers = []
    for query in ("", f"?token={world.revoked_token}", f"?token={new_id()}"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(f"ws://{live}/api/v1/ws{query}"):
                pass
        response = refused.value.response
        assert response.status_code == 401
        assert orjson.loads(response.body)["error"]["code"] == "unauthorized"
        answers.append(bytes(response.body))
    assert len(set(answers)) == 1


async def _frames_until(socket: Any, done: Callable[[dict[str, Any]], bool]) -> list[Any]:
    frames = []
    while True:
        frame = orjson.loads(await asyncio.wait_for(socket.recv(), 10))
        if frame["type"] in ("ping", "ready"):
            continue
        frames.append(frame)
        if done(frame):
            return frames


async def test_a_removed_members_open_socket_hears_nothing_more_of_the_org(
    http: httpx.AsyncClient, live: str
) -> None:
    owner, insider, outsider, rex, newcomer = [
        await register(http, n) for n in ("Ann", "Bob", "Mia", "Rex", "Ned")
    ]
    org_id = await create_org(owner)
    await join_org(owner, org_id, insider, outsider, rex)
    group = await create_group(owner, org_id, insider, rex, title="Plans")
    dm = expect(
        await rex.post(f"/orgs/{org_id}/conversations", {"kind": "dm", "member_ids": [owner.id]}),
        201,
    )["id"]
    own_org = await create_org(rex, "Rex's")
    await send_text(owner, group, "before")
    rex_message = await send_text(rex, group, "mine")
    await send_text(rex, dm, "hi")

    async with websockets.connect(f"ws://{live}/api/v1/ws?token={rex.token}") as socket:
        assert orjson.loads(await socket.recv())["type"] == "ready"
        expect(await owner.delete(f"/orgs/{org_id}/members/{rex.id}"), 204)

        # Everything the org still does: messages, reads of Rex's own message, renames,
        # new groups and members, roles, departments, newcomers.
        last = await send_text(owner, group, "after")
        expect(await insider.post(f"/conversations/{group}/read", {"up_to_seq": last["seq"]}), 204)
        expect(await owner.post(f"/conversations/{dm}/read", {"up_to_seq": 1}), 204)
        expect(await owner.patch(f"/conversations/{group}", {"title": "Secret plans"}), 200)
        expect(await owner.patch(f"/messages/{last['id']}", {"text": "after, edited"}), 200)
        expect(await owner.post(f"/messages/{last['id']}/recall"), 200)
        await send_text(owner, dm, "are you there?")
        expect(
            await owner.post(f"/conversations/{group}/members", {"user_ids": [outsider.id]}), 200
        )
        expect(await insider.delete(f"/conversations/{group}/members/{insider.id}"), 204)
        await create_group(owner, org_id, insider, outsider, title="New")
        expect(await owner.put(f"/orgs/{org_id}/members/{outsider.id}", {"role": "admin"}), 200)
        expect(await owner.post(f"/orgs/{org_id}/departments", {"name": "Sales"}), 201)
        await join_org(owner, org_id, newcomer)
        assert rex_message["seq"] <= last["seq"]

        # A marker Rex must get, committed after all of the above: frames arrive in order.
        marker = expect(await rex.post(f"/orgs/{own_org}/departments", {"name": "Mine"}), 201)
        frames = await _frames_until(
            socket, lambda f: f.get("department", {}).get("id") == marker["id"]
        )

    heard = [(f["type"], f.get("conversation_id") or f.get("org_id")) for f in frames[:-1]]
    assert sorted(heard) == sorted(
        [
            ("member.left", group),
            ("member.left", dm),
            ("org.member_removed", org_id),
        ]
    ), f"a removed member's socket heard more of the org: {frames[:-1]}"
    assert all(f.get("user_id") == rex.id for f in frames[:-1])


async def test_a_resume_replays_nothing_from_before_joining(
    http: httpx.AsyncClient, live: str
) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    org_id = await create_org(ann)
    await join_org(ann, org_id, bob)
    group = await create_group(ann, org_id, title="Plans")
    async with websockets.connect(f"ws://{live}/api/v1/ws?token={bob.token}") as socket:
        cursor = orjson.loads(await socket.recv())["cursor"]
    secret = await send_text(ann, group, "before Bob came")
    expect(await ann.post(f"/messages/{secret['id']}/recall"), 200)
    expect(await ann.post(f"/conversations/{group}/members", {"user_ids": [bob.id]}), 200)
    query = f"token={bob.token}&cursor={cursor}"
    async with websockets.connect(f"ws://{live}/api/v1/ws?{query}") as socket:
        replayed = await _frames_until(socket, lambda f: f["type"] == "member.joined")
    assert [f["type"] for f in replayed] == ["member.joined"], replayed
    # Over HTTP he sees the history, but a recalled message only as recalled.
    page = expect(await bob.get(f"/conversations/{group}/messages"), 200)
    assert [(m["recalled"], m["text"]) for m in page["items"]] == [(True, "")]
