from __future__ import annotations

from typing import Literal

from knock.core.events import Event


class MessageBurned(Event):
    """A burn-after-reading message is gone for everyone: drop it from every view. Its
    earlier events have been rewritten to the burned placeholder."""

    type: Literal["message.burned"] = "message.burned"
    conversation_id: str
    message_id: str
