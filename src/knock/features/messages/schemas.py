"""Message inputs and the message object.

This module imports only core: conversations embeds ``MessageOut`` as a conversation's
``last_message`` without importing anything that imports conversations back.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from knock.core.schemas import Id, Schema, Timestamp

ClientMsgId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# The schema bound is the hard ceiling; the action enforces settings.max_text_chars.
MessageText = Annotated[str, Field(min_length=1, max_length=100_000)]
MENTION_ALL = "all"
MAX_MENTIONS = 1000
MESSAGE_PAGE_MAX = 200
MESSAGE_PAGE_DEFAULT = 50


class SendMessageIn(Schema):
    client_msg_id: ClientMsgId
    text: MessageText
    reply_to_id: Id | None = None
    mentions: Annotated[list[Id], Field(max_length=MAX_MENTIONS)] = Field(default_factory=list)
    # Only text for now; media kinds (image, voice, ...) extend this literal.
    type: Literal["text"] = "text"


class EditMessageIn(Schema):
    text: MessageText


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    seq: int
    sender_id: str
    client_msg_id: str
    type: str
    text: str
    reply_to_id: str | None
    mentions: list[str]
    created_at: Timestamp
    edited_at: Timestamp | None
    recalled: bool
    # Set on the caller's own messages: how many other current members have not read it.
    unread_count: int | None = None


class MessagePage(BaseModel):
    items: list[MessageOut]
    has_more: bool
