from __future__ import annotations

from typing import Literal

from knock.core.events import Event
from knock.features.calls.schemas import CallOut


class CallStarted(Event):
    """Someone started a voice conference in the conversation: others may join it."""

    type: Literal["call.started"] = "call.started"
    call: CallOut


class CallUpdated(Event):
    """Who is in the call, muted or speaking changed (speaking changes are coalesced)."""

    type: Literal["call.updated"] = "call.updated"
    call: CallOut


class CallEnded(Event):
    """The call is over: the last person left, it was ended, or its node went away."""

    type: Literal["call.ended"] = "call.ended"
    call: CallOut
