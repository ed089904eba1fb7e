from __future__ import annotations

from typing import Literal

from knock.core.events import Event
from knock.features.messages.schemas import MessageOut


class MessageCreated(Event):
    """One frame for every member, so the embedded message has unread_count null."""

    type: Literal["message.created"] = "message.created"
    message: MessageOut


class MessageUpdated(Event):
    """An edit or a recall; the message as it now is (unread_count null)."""

    type: Literal["message.updated"] = "message.updated"
    message: MessageOut
