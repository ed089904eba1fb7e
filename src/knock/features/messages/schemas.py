"""Message inputs and the message object.

This module imports only core (and the media object): conversations embeds ``MessageOut`` as a conversation's
``last_message`` without importing anything that imports conversations back.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from knock.core.schemas import Id, Schema, Timestamp
from knock.features.media.schemas import MediaOut

ClientMsgId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# The schema bound is the hard ceiling; the action enforces settings.max_text_chars.
MessageText = Annotated[str, Field(min_length=1, max_length=100_000)]
MENTION_ALL = "all"
MAX_MENTIONS = 1000
MESSAGE_PAGE_MAX = 200
MESSAGE_PAGE_DEFAULT = 50


MessageType = Literal["text", "image", "voice", "voice_photo"]
MAX_MEDIA_PER_MESSAGE = 2
BURN_AFTER_MIN_S = 5
BURN_AFTER_MAX_S = 300


class SendMessageIn(Schema):
    client_msg_id: ClientMsgId
    # Required for text messages (the action checks); a caption, possibly empty, otherwise.
    text: Annotated[str, Field(max_length=100_000)] = ""
    reply_to_id: Id | None = None
    mentions: Annotated[list[Id], Field(max_length=MAX_MENTIONS)] = Field(default_factory=list)
    type: MessageType = "text"
    # image: one image; voice: one audio; voice_photo: one image and one audio.
    media_ids: Annotated[list[Id], Field(max_length=MAX_MEDIA_PER_MESSAGE)] = Field(
        default_factory=list
    )
    # Burn after reading: each recipient sees the content this long after opening it.
    burn_after_s: Annotated[int, Field(ge=BURN_AFTER_MIN_S, le=BURN_AFTER_MAX_S)] | None = None


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
    media: list[MediaOut] = Field(default_factory=list)
    # Burn after reading (null for ordinary messages). Until a recipient opens it (POST
    # /messages/{id}/open) their copy has no text and no media; ``burn_expires_at`` is when
    # their copy burns; ``burned``: gone (text and media empty for good).
    burn_after_s: int | None = None
    burn_expires_at: Timestamp | None = None
    burned: bool = False
    # `approval` cards (posted by the approvals feature, never sent by clients): the
    # approval's id. Only its participants may open it; everyone else sees the text.
    approval_id: str | None = None


class MessagePage(BaseModel):
    items: list[MessageOut]
    has_more: bool
