from __future__ import annotations

from typing import Literal

from knock.core.events import Event


class SessionRevoked(Event):
    """Sent to the user's own devices; the gateway closes sockets of that session (4001)."""

    type: Literal["session.revoked"] = "session.revoked"
    session_id: str
