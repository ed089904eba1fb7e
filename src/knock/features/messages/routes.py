# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Response
from pydantic import TypeAdapter, ValidationError

from knock.core.errors import KnockError
from knock.core.http import LeanHandler
from knock.features.accounts.actions import Accounts, Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.messages.actions import Messages
from knock.features.messages.schemas import (
    MESSAGE_PAGE_DEFAULT,
    MESSAGE_PAGE_MAX,
    EditMessageIn,
    MessageOut,
    MessagePage,
    SendMessageIn,
)

Seq = Annotated[int | None, Query(ge=0, le=2**31 - 1)]
SEND_PATH = r"/api/v1/conversations/(?P<conversation_id>[^/]+)/messages"
_MESSAGE_JSON = TypeAdapter(MessageOut)


def lean_send(messages: Messages, accounts: Accounts) -> LeanHandler:
    """``send_message`` below as a lean route (core/http.py ``LeanRoute``): the same action
    and the same answers. A request with a token or a body that does not pass is left to
    the route, which answers the error."""

    async def send(path: dict[str, str], token: str, body: bytes) -> tuple[int, bytes] | None:
        try:
            viewer = await accounts.authenticate(token)
            # As FastAPI reads a body: JSON to Python, then validation in Python mode.
            parsed = SendMessageIn.model_validate(orjson.loads(body))
        except (KnockError, ValidationError, orjson.JSONDecodeError):
            return None
        message, created = await messages.do_send_message(
            viewer.user_id, path["conversation_id"], parsed
        )
        return (201 if created else 200), _MESSAGE_JSON.dump_json(message, by_alias=True)

    return send


def build_router(messages: Messages, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["messages"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post("/conversations/{conversation_id}/messages", status_code=201)
    async def send_message(
        conversation_id: str, body: SendMessageIn, viewer: CurrentViewer, response: Response
    ) -> MessageOut:
        """Send a message. Members of the conversation. A retry with the same client_msg_id
        and body answers 200 with the original message; another body answers 409."""
        message, created = await messages.do_send_message(viewer.user_id, conversation_id, body)
        if not created:
            response.status_code = 200
        return message

    @router.get("/conversations/{conversation_id}/messages")
    async def list_messages(
        conversation_id: str,
        viewer: CurrentViewer,
        after_seq: Seq = None,
        before_seq: Seq = None,
        limit: Annotated[int, Query(ge=1, le=MESSAGE_PAGE_MAX)] = MESSAGE_PAGE_DEFAULT,
    ) -> MessagePage:
        """A page of messages in seq order: after after_seq, before before_seq, or the newest.
        Members of the conversation."""
        return await messages.messages(
            viewer.user_id, conversation_id, after_seq, before_seq, limit
        )

    @router.get("/messages/{message_id}")
    async def get_message(message_id: str, viewer: CurrentViewer) -> MessageOut:
        """One message. Members of its conversation."""
        return await messages.message(viewer.user_id, message_id)

    @router.patch("/messages/{message_id}")
    async def edit_message(
        message_id: str, body: EditMessageIn, viewer: CurrentViewer
    ) -> MessageOut:
        """Change a message's text. Its sender only, and not once it is recalled."""
        return await messages.do_edit_message(viewer.user_id, message_id, body.text)

    @router.post("/messages/{message_id}/recall")
    async def recall_message(message_id: str, viewer: CurrentViewer) -> MessageOut:
        """Take a message back (its text and mentions are erased). Its sender only, within
        the recall window."""
        return await messages.do_recall_message(viewer.user_id, message_id)

    @router.post("/messages/{message_id}/open")
    async def open_message(message_id: str, viewer: CurrentViewer) -> MessageOut:
        """A burn-after-reading message with its text and media. Members of its
        conversation. A recipient's first opening starts their timer (``burn_expires_at``);
        once it has run out this answers the burned placeholder. Other messages answer as
        GET /messages/{id}."""
        return await messages.do_open_message(viewer.user_id, message_id)

    return router
