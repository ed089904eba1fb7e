"""Pre-framed WebSocket writes: an event is framed once and the same bytes go to every socket.

uvicorn frames each ASGI ``websocket.send`` on its own, through several layers, per
recipient. Knock serves WebSockets with ``KnockWebSocketProtocol``: uvicorn's sansio
protocol that also hands the gateway a ``Wire`` (the ASGI scope extension
``knock.wire``), through which the gateway writes whole text frames straight to the
socket. Server frames are not masked and Knock never fragments, so a frame is a two to ten
byte header and the JSON; no extension is negotiated that would change that
(``ws_per_message_deflate`` is off in ``knock serve``, and a client that negotiated
permessage-deflate still reads uncompressed messages, RFC 7692 §6). Under any other server
the gateway falls back to ASGI sends.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

WIRE_EXTENSION = "knock.wire"


def text_frame(payload: bytes) -> bytes:
    """One unmasked, unfragmented text frame (FIN, opcode 1) carrying ``payload``."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


def frame_payload(frame: bytes) -> bytes:
    """The payload of a frame made by ``text_frame`` (for the ASGI fallback)."""
    marker = frame[1]
    return frame[2:] if marker < 126 else frame[4:] if marker == 126 else frame[10:]


class Wire:
    """The socket under one accepted WebSocket, for whole frames."""

    def __init__(self, protocol: KnockWebSocketProtocol) -> None:
        self._protocol = protocol

    @property
    def paused(self) -> bool:
        """The socket's buffer is over its high-water mark: hold frames back."""
        return not self._protocol.writable.is_set()

    async def writable(self) -> None:
        await self._protocol.writable.wait()

    def write(self, data: bytes) -> bool:
        """Write frames; False once the socket is closing (nothing more may go out)."""
        protocol = self._protocol
        if protocol.close_sent or protocol.transport.is_closing():
            return False
        protocol.transport.write(data)
        return True


class KnockWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, offering the gateway a ``Wire``."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # the ASGI task is created but has not run yet
            scope["extensions"][WIRE_EXTENSION] = {"wire": Wire(self)}


def wire_of(scope: Mapping[str, Any]) -> Wire | None:
    """The ``Wire`` of a WebSocket scope, if Knock's protocol serves it."""
    found = scope.get("extensions", {}).get(WIRE_EXTENSION)
    wire = found.get("wire") if isinstance(found, dict) else None
    return wire if isinstance(wire, Wire) else None
