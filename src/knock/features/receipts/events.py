from __future__ import annotations

from typing import Literal

from knock.core.events import Event
from knock.features.receipts.schemas import ReceiptRange


class ReceiptUpdated(Event):
    """Read cursors that moved in one conversation, coalesced over a short interval; sent to
    the readers and to the senders of the messages they read."""

    type: Literal["receipt.updated"] = "receipt.updated"
    conversation_id: str
    receipts: list[ReceiptRange]
