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

import asyncio
import struct
from collections.abc import Mapping
from typing import Any, Protocol, cast

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame
from websockets.http11 import Request

WIRE_EXTENSION = "knock.wire"
CLOSE_TIMEOUT_S = 30.0  # how long a closing socket may take to drain and answer
PROTOCOL_PING = b"\x89\x00"  # a ping control frame (FIN, opcode 9), empty, unmasked


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


class SocketOwner(Protocol):
    """Who serves a socket once the gateway has handed it over (``Wire.detach``)."""

    def text_received(self, data: bytes) -> None:
        """A text message from the client (its payload)."""

    def writing_paused(self) -> None:
        """The socket's buffer is over its high-water mark: hold frames back."""

    def writable_again(self) -> None:
        """The socket's buffer drained below its low-water mark."""

    def socket_lost(self) -> None:
        """The connection is gone; called once."""


class Wire:
    """The socket under one accepted WebSocket, for whole frames."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: KnockWebSocketProtocol) -> None:
        self._protocol = protocol

    @property
    def transport(self) -> asyncio.WriteTransport:
        """The socket's transport, for whoever serves the socket once detached; its
        ``is_closing()`` turns true whenever a close frame has gone out, except after
        ``close``."""
        return cast(asyncio.WriteTransport, self._protocol.transport)

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

    def answered(self) -> bool:
        """Whether the peer sent anything (a pong, a message) since the last time this was
        asked; the handshake counts."""
        protocol = self._protocol
        heard, protocol.heard = protocol.heard, False
        return heard

    def detach(self, owner: SocketOwner) -> bool:
        """Hand the open socket to ``owner``: the ASGI application may then return and the
        socket stays open, served by callbacks (no task). False if it is already gone."""
        return self._protocol.detach(owner)

    def close(self, code: int, reason: str = "") -> None:
        """Start the closing handshake (after whatever is buffered) on a detached socket."""
        self._protocol.close_detached(code, reason)


class KnockWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, offering the gateway a ``Wire``.

    Once the gateway detaches a socket (after the handshake and the replay), the protocol
    serves it without the ASGI application: text messages, buffer drain and loss go to the
    ``SocketOwner``, and what only the handshake needed (the ASGI scope and its headers,
    the HTTP request and response, the receive queue) is dropped. An idle socket then costs
    no task and no coroutine stack (``bench/memory.py`` shows what that saves).
    """

    owner: SocketOwner | None = None  # set by ``detach``
    heard = True  # the peer sent something since ``Wire.answered`` last asked

    # Keepalive --------------------------------------------------------------------------
    # uvicorn's protocol keeps a timer per socket and pings each on its own. Knock's gateway
    # pings every live socket from one timer instead, the protocol ping in the same write
    # as its ``{"type":"ping"}``, and closes a socket that answered nothing for a whole
    # interval (``Gateway._ping_slice``): half the writes and no timer per socket.

    def start_keepalive(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self.heard = True
        super().data_received(data)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # the ASGI task is created but has not run yet
            scope["extensions"][WIRE_EXTENSION] = {"wire": Wire(self)}

    # Handing over ----------------------------------------------------------------------

    def detach(self, owner: SocketOwner) -> bool:
        if self.disconnected or self.close_sent or self.transport.is_closing():
            return False
        self.owner = owner
        # Messages that arrived while the application was not reading (during the replay).
        while not self.queue.empty():
            message = self.queue.get_nowait()
            text = message.get("text") if message["type"] == "websocket.receive" else None
            if isinstance(text, str):
                owner.text_received(text.encode())
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        # uvicorn closes the socket when the application returns unless a close is pending
        # (``close_timer`` set): this socket is held open until the task is over.
        self.close_timer = _HELD_OPEN
        self.scope = _DETACHED_SCOPE
        self.__dict__.pop("request", None)
        self.__dict__.pop("response", None)
        self.initial_response = None
        return True

    def on_task_complete(self, task: asyncio.Task[None]) -> None:
        super().on_task_complete(task)
        if self.owner is not None:
            self.queue = _NO_QUEUE  # nothing reads it any more
            if self.close_timer is _HELD_OPEN:
                self.close_timer = None

    def close_detached(self, code: int, reason: str) -> None:
        if self.close_sent or self.transport.is_closing():
            return
        if self.close_timer is not None:  # held open for a moment more: the endpoint ends
            self.close_timer.cancel()
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        # A peer that never reads never answers: give up on it after the timeout.
        self.close_timer = self.loop.call_later(CLOSE_TIMEOUT_S, self.transport.abort)

    # Served while detached -------------------------------------------------------------

    def send_receive_event_to_app(self) -> None:
        owner = self.owner
        if owner is None:
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.curr_msg_data_type == "text" and not self.close_sent:
            owner.text_received(data)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.owner is not None:
            self.owner.writing_paused()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.owner is not None:
            self.owner.writable_again()

    def handle_close(self, event: Frame) -> None:
        if self.owner is None:
            super().handle_close(event)
            return
        if self.close_sent:  # the peer answered our close
            if self.close_timer is not None:
                self.close_timer.cancel()
                self.close_timer = None
            self.transport.close()
            return
        self.transport.write(b"".join(self.conn.data_to_send()))  # the echoed close
        self.close_sent = True
        self.transport.close()

    def handle_parser_exception(self) -> None:
        if self.owner is None:
            super().handle_parser_exception()
            return
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()

    def shutdown(self) -> None:
        if self.owner is None:
            super().shutdown()
            return
        self.stop_keepalive()
        if not self.close_sent:
            self.conn.send_close(1012)  # service restart
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        owner = self.owner
        if owner is None:
            super().connection_lost(exc)
            return
        self.stop_keepalive()
        self.connections.discard(self)
        self.handshake_complete = True
        self.disconnected = True
        self.writable.set()
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        if exc is None:
            self.transport.close()
        owner.socket_lost()


class _NoQueue(asyncio.Queue[Any]):
    """Stands for the receive queue of a detached socket; nothing is ever queued."""

    def put_nowait(self, item: Any) -> None:
        pass


class _HeldOpen:
    """Stands for a pending close while a detached socket's application returns."""

    def cancel(self) -> None:
        pass


_NO_QUEUE: asyncio.Queue[Any] = _NoQueue()
_HELD_OPEN = cast(asyncio.TimerHandle, _HeldOpen())
_DETACHED_SCOPE: Any = {"type": "websocket", "extensions": {}}


def wire_of(scope: Mapping[str, Any]) -> Wire | None:
    """The ``Wire`` of a WebSocket scope, if Knock's protocol serves it."""
    found = scope.get("extensions", {}).get(WIRE_EXTENSION)
    wire = found.get("wire") if isinstance(found, dict) else None
    return wire if isinstance(wire, Wire) else None
