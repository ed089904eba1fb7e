"""A message row: made for a send, and as one viewer sees it."""

from __future__ import annotations

from datetime import datetime

import orjson

from knock.core.ids import new_id
from knock.features.burn.actions import BurnState
from knock.features.media.schemas import MediaOut
from knock.features.messages.models import Message
from knock.features.messages.schemas import MessageOut, SendMessageIn


def new_message(
    conversation_id: str,
    seq: int,
    sender_id: str,
    body: SendMessageIn,
    digest: str,
    mentions: list[str],
    now: datetime,
) -> Message:
    return Message(
        id=new_id(),
        conversation_id=conversation_id,
        seq=seq,
        sender_id=sender_id,
        client_msg_id=body.client_msg_id,
        request_hash=digest,
        type=body.type,
        text=body.text,
        reply_to_id=body.reply_to_id,
        mentions=orjson.dumps(mentions).decode(),
        created_at=now,
        edited_at=None,
        recalled=False,
        burn_after_s=body.burn_after_s,
        approval_id=None,
    )


def message_out(
    message: Message,
    unread_count: int | None = None,
    *,
    media: list[MediaOut] | None = None,
    burn: BurnState | None = None,
) -> MessageOut:
    """The message as one viewer sees it; a sealed burn message has no text and no media."""
    sealed = burn is not None and burn.sealed
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        seq=message.seq,
        sender_id=message.sender_id,
        client_msg_id=message.client_msg_id,
        type=message.type,
        text="" if sealed else message.text,
        reply_to_id=message.reply_to_id,
        mentions=orjson.loads(message.mentions),
        created_at=message.created_at,
        edited_at=message.edited_at,
        recalled=message.recalled,
        unread_count=unread_count,
        media=[] if sealed or message.recalled else (media or []),
        burn_after_s=burn.burn_after_s if burn is not None else None,
        burn_expires_at=burn.expires_at if burn is not None else None,
        burned=burn is not None and burn.burned,
        approval_id=message.approval_id,
    )
