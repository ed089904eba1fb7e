from __future__ import annotations

from typing import Literal

from knock.core.events import Event
from knock.features.ding.schemas import DingOut, DingRecipientOut


class DingCreated(Event):
    """The loud in-app alert. One frame to the sender (every recipient) and one to each
    recipient (only their own entry)."""

    type: Literal["ding.created"] = "ding.created"
    ding: DingOut


class DingUpdated(Event):
    """One recipient's state changed: they confirmed, a step reached them, or the sender
    re-DINGed them (alert loudly again). To the sender and that recipient."""

    type: Literal["ding.updated"] = "ding.updated"
    ding_id: str
    org_id: str
    change: Literal["confirmed", "step", "reding"]
    recipient: DingRecipientOut
