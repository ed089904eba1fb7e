"""The WebSocket gateway: ``WS /api/v1/ws?token=...&cursor=...``.

Handshake: a bad token is refused with HTTP 401, a browser Origin that is not allowed with
403. Then: replay every event after the cursor from the event log, send ``ready``, go live.
While replaying, live events queue on the connection and are sent after, without
duplicates (each frame's id is compared with the last one sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from knock.config import Settings
from knock.core.admission import Admission
from knock.core.db import Database
from knock.core.errors import Unauthorized, error_response
from knock.features.accounts.actions import Accounts, Viewer
from knock.realtime.eventlog import (
    events_for_user,
    last_event_id,
    pruned_upto,
    subscriptions_of,
)
from knock.realtime.pump import EventPump
from knock.realtime.registry import (
    CLOSE_NORMAL,
    CLOSE_TRY_AGAIN_LATER,
    PONG,
    Connection,
    Registry,
)
from knock.realtime.wire import (
    CLOSE_TIMEOUT_S,
    PROTOCOL_PING,
    Wire,
    frame_payload,
    text_frame,
    wire_of,
)

log = logging.getLogger(__name__)

REPLAY_PAGE = 500
_PING = text_frame(b'{"type":"ping"}')
_PINGS = _PING + PROTOCOL_PING
CLOSE_NO_ANSWER = 1011  # as uvicorn's keepalive timeout
HEARTBEAT_SLICES = 10


def _cursor_frame(kind: str, cursor: int) -> bytes:
    return text_frame(orjson.dumps({"type": kind, "cursor": str(cursor)}))


class Gateway:
    def __init__(
        self,
        db: Database,
        accounts: Accounts,
        pump: EventPump,
        registry: Registry,
        settings: Settings,
        admission: Admission | None = None,
    ) -> None:
        """``admission`` counts open sockets: it counts one while the ASGI call lasts, and
        a socket that Knock's protocol serves on is counted until it ends."""
        self._db = db
        self._admission = admission
        self._accounts = accounts
        self._pump = pump
        self._registry = registry
        self._settings = settings
        self._heartbeat: asyncio.TimerHandle | None = None
        self._round: list[Connection] = []  # the sockets of this heartbeat round
        self._slice = 0  # the slice of the round the next tick pings
        self._release_conn = self._release  # one bound method for every connection

    def origin_allowed(self, websocket: WebSocket) -> bool:
        origin = websocket.headers.get("origin")
        if origin is None:
            return True  # native apps and bots send no Origin; the token still decides
        origin = origin.rstrip("/")
        allowed = self._settings.ws_allowed_origins
        if allowed:
            return origin in allowed or "*" in allowed
        host = websocket.headers.get("host", "")
        return origin in (f"http://{host}", f"https://{host}")

    async def endpoint(self, websocket: WebSocket) -> None:
        """The realtime event stream for the signed-in user (token in the query)."""
        if not self.origin_allowed(websocket):
            await websocket.send_denial_response(
                error_response(403, "forbidden", "This origin may not open a WebSocket.")
            )
            return
        try:
            viewer = await self._accounts.authenticate(websocket.query_params.get("token"))
        except Unauthorized as exc:
            await websocket.send_denial_response(error_response(401, exc.code, exc.message))
            return
        await websocket.accept()
        conn = Connection(
            viewer.user_id, viewer.session_id, self._settings.ws_send_queue, self._registry.batch
        )
        live = False
        try:
            live = await self._serve(websocket, viewer, conn)
        finally:
            if not live:
                self._registry.remove(conn)

    async def _serve(self, websocket: WebSocket, viewer: Viewer, conn: Connection) -> bool:
        """Subscribe, replay, go live; True when Knock's protocol serves the socket on
        (this endpoint then returns and the socket stays open, with no task of its own)."""
        position, head, oldest = await self._subscribe(
            conn, viewer, websocket.query_params.get("cursor")
        )
        self._keep_pinging()

        cursor = websocket.query_params.get("cursor")
        wire = wire_of(websocket.scope)
        last_sent = await self._replay(websocket, wire, viewer, cursor, position, head, oldest)
        await self._send(websocket, wire, [_cursor_frame("ready", max(last_sent, position))])
        conn.last_sent = last_sent
        if wire is not None and not conn.overflowed:
            # From here the protocol calls the connection: what queued during the replay
            # goes first, then frames go straight to the socket while it keeps up.
            conn.release = self._release_conn
            if conn.live_on(wire):
                if self._admission is not None:
                    self._admission.connections += 1  # the socket outlives this ASGI call
                return True
            conn.release = _keep
            return False
        if not conn.overflowed:
            await self._live(websocket, conn, wire)
        # Unsubscribe before closing: a full socket can take long to take a close frame.
        self._registry.remove(conn)
        if conn.overflowed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    websocket.close(CLOSE_TRY_AGAIN_LATER, "too slow; resume with your cursor"),
                    CLOSE_TIMEOUT_S,
                )
        return False

    async def _subscribe(
        self, conn: Connection, viewer: Viewer, cursor: str | None
    ) -> tuple[int, int, int]:
        """Register the connection; the pump's position, and when a cursor is given the
        log's head and pruning point (the replay's bounds)."""
        # Under a paused pump: the membership snapshot is at least as new as the pump's
        # position, and membership events after it re-apply idempotently.
        async with self._pump.paused() as position:
            async with self._db.read() as session:
                conversation_ids, org_ids = await subscriptions_of(session, viewer.user_id)
                if cursor:
                    head = await last_event_id(session)
                    oldest = await pruned_upto(session)
                else:
                    head = oldest = position  # no replay: the bounds are not needed
            self._registry.add(conn, conversation_ids, org_ids)
        return position, head, oldest

    def _release(self, conn: Connection) -> None:
        """A live connection on Knock's protocol ended (closed, lost, too slow, revoked)."""
        self._registry.remove(conn)
        if self._admission is not None:
            self._admission.close_connection()

    async def _live(self, websocket: WebSocket, conn: Connection, wire: Wire | None) -> None:
        """Under another server: read in this task and write in one more, until either
        ends. The writer ends on a close code or a dead socket, an overflow ends the
        reading; each stops the other."""
        wakeup = asyncio.Event()
        conn.wakeup = wakeup.set
        writer = asyncio.create_task(self._write(websocket, conn, wire, wakeup))
        reader = asyncio.current_task()
        assert reader is not None
        conn.interrupt = reader.cancel
        writer.add_done_callback(lambda _: conn.interrupt())
        wakeup.set()  # what queued during the replay
        try:
            if not conn.overflowed:
                await self._read(websocket, conn)
        except asyncio.CancelledError:
            if not (conn.overflowed or writer.done()):
                raise  # the server is stopping, not this connection
            reader.uncancel()
        finally:
            conn.interrupt = _reading_over
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    def _keep_pinging(self) -> None:
        """One timer pings every socket of the node (not a task per socket); it stops
        while no socket is open. A round (``KNOCK_WS_HEARTBEAT_S``) pings every socket
        open when it began once, in ``HEARTBEAT_SLICES`` slices spread over it: 10,000
        sockets never hold the loop for 10,000 writes at once."""
        if self._heartbeat is None:
            loop = asyncio.get_running_loop()
            self._heartbeat = loop.call_later(
                self._settings.ws_heartbeat_s / HEARTBEAT_SLICES, self._ping_slice
            )

    def _ping_slice(self) -> None:
        """Ping this tick's slice of the round: ``{"type":"ping"}`` for the client's code
        and, on a live socket of Knock's protocol, a protocol ping in the same write. A
        live socket whose peer sent nothing since the last round, not even the pong, is
        closed (1011)."""
        self._heartbeat = None
        if self._slice == 0:
            self._round = list(self._registry.connections())
        size = len(self._round)
        start = self._slice * size // HEARTBEAT_SLICES
        end = (self._slice + 1) * size // HEARTBEAT_SLICES
        for conn in self._round[start:end]:
            wire = conn.wire
            if wire is None:  # not live yet, or served by another ASGI server
                conn.push(0, _PING)
            elif wire.answered():
                conn.push(0, _PINGS)
            else:
                conn.close_with(CLOSE_NO_ANSWER)
        self._slice = (self._slice + 1) % HEARTBEAT_SLICES
        if self._slice == 0:
            self._round = []
        if self._slice or self._registry.by_user:
            self._keep_pinging()

    async def _send(self, websocket: WebSocket, wire: Wire | None, frames: list[bytes]) -> None:
        """Frames in order: in one write on Knock's protocol, else one ASGI send each."""
        if not frames:
            return
        if wire is not None:
            await wire.writable()
            if not wire.write(b"".join(frames)):
                raise WebSocketDisconnect(CLOSE_NORMAL)
            return
        for frame in frames:
            await websocket.send_text(frame_payload(frame).decode())

    async def _replay(
        self,
        websocket: WebSocket,
        wire: Wire | None,
        viewer: Viewer,
        raw_cursor: str | None,
        position: int,
        head: int,
        oldest: int,
    ) -> int:
        """Send the events after the cursor up to the pump's position; the last id sent."""
        if raw_cursor is None or raw_cursor == "":
            return position
        cursor = int(raw_cursor) if raw_cursor.isdigit() and len(raw_cursor) < 19 else -1
        if cursor < oldest or cursor > head:
            await self._send(websocket, wire, [_cursor_frame("resync_required", position)])
            return position
        sent = cursor
        while sent < position:
            async with self._db.read() as session:
                page = await events_for_user(session, viewer.user_id, sent, position, REPLAY_PAGE)
            if page:
                await self._send(websocket, wire, [text_frame(frame) for _, frame in page])
                sent = page[-1][0]
            if len(page) < REPLAY_PAGE:
                break
        return max(sent, cursor)

    async def _write(
        self, websocket: WebSocket, conn: Connection, wire: Wire | None, wakeup: asyncio.Event
    ) -> None:
        """Sends what queued (under another server than Knock's protocol)."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                await wakeup.wait()
                wakeup.clear()
                if wire is not None:
                    # Wait before taking: frames pushed meanwhile queue behind these.
                    await wire.writable()
                await self._send(websocket, wire, conn.take_unsent())
                if conn.closing_code is not None:
                    if conn.closing_code != CLOSE_NORMAL:
                        await websocket.close(conn.closing_code)
                    return

    async def _read(self, websocket: WebSocket, conn: Connection) -> None:
        try:
            while True:
                text = await websocket.receive_text()
                if len(text) <= 64 and orjson.loads(text).get("type") == "ping":
                    conn.push(0, PONG)
        except (WebSocketDisconnect, orjson.JSONDecodeError, AttributeError, KeyError):
            pass
        finally:
            conn.close_with(CLOSE_NORMAL)


def _reading_over() -> None:
    """What stops a connection's reading once it has stopped."""


def _keep(conn: Connection) -> None:
    """Nothing to release: the endpoint unsubscribes the connection itself."""
