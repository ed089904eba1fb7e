"""This node's open WebSockets, indexed by what they are subscribed to.

A connection is subscribed to its user, the orgs and the conversations the user belongs
to. The event pump keeps the subscriptions in step with membership events, so routing an
event costs a few set lookups and no database query.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator

import orjson

from knock.realtime.wire import Wire, text_frame

CLOSE_NORMAL = 1000
CLOSE_TRY_AGAIN_LATER = 1013
PONG = text_frame(b'{"type":"pong"}')


def _nothing() -> None:
    """A connection that is not being read yet, or no more, has nothing to interrupt."""


def _forget(conn: Connection) -> None:
    """A connection that no gateway holds has nothing to release."""


class WriteBatch:
    """Frames for live sockets, written once per loop turn: one ``write`` per socket for
    everything the pump delivered to it meanwhile. Under load the pump delivers several
    events in one turn (a group commit publishes its events together, a backlog drains at
    once), and on loopback every write costs a system call that also runs the receiver's
    TCP stack: one write instead of several is most of a delivery's cost saved. Alone, an
    event goes out at the end of the turn it was delivered in."""

    __slots__ = ("dirty",)

    def __init__(self) -> None:
        # The connections with frames pending this turn (``Connection.push`` adds them
        # itself, and schedules the flush with the first: a fan-out's hottest line).
        self.dirty: list[Connection] = []

    def flush(self) -> None:
        dirty, self.dirty = self.dirty, []
        write_out(dirty)


def write_out(conns: Iterable[Connection]) -> None:
    """Write each connection's frames of this turn, in one write (they go before anything
    queued after them). Every close of a detached socket but our own (``_end``, which stops
    writes first) closes its transport at once: no frame can follow a close frame. One loop
    for the whole batch, not a call per connection: a call was a tenth of a delivery's
    instructions (``bench/instructions.py``)."""
    for conn in conns:
        pending = conn.pending
        if pending is None:
            continue
        conn.pending = None
        transport = conn.transport
        if transport is not None and conn.closing_code is None and not transport.is_closing():
            transport.write(pending if isinstance(pending, bytes) else b"".join(pending))


class Connection:
    """One open WebSocket: its subscriptions and a bounded queue of frames to send.

    Frames are whole WebSocket frames (``wire.text_frame``), the same bytes for every
    recipient. Once the replay is sent the gateway hands the socket over (``live_on``, when
    Knock's protocol serves it): a frame then goes straight to the socket if nothing is
    queued before it and the socket takes more; otherwise it queues until the socket drains
    (``writable_again``). No task serves such a connection. Under another server the
    gateway's writer task drains the queue when ``wakeup`` calls it.

    Idle connections are most of a node's memory, hence the slots and the queue that
    exists only while frames wait. A fan-out visits every recipient's connection once per
    event, and at a few events a second each of them is cold in the CPU's caches: what a
    live push reads is kept here, in the connection's own slots, rather than read through
    the protocol object each time (``bench/RESULTS.md``, session 6, measured what those
    reads cost), and whether the frame may go straight out is one of them (``live``).
    """

    __slots__ = (
        "batch",
        "closing_code",
        "conversations",
        "interrupt",
        "last_sent",
        "live",
        "max_queue",
        "orgs",
        "overflowed",
        "paused",
        "pending",
        "queue",
        "release",
        "session_id",
        "transport",
        "user_id",
        "wakeup",
        "wire",
    )

    def __init__(
        self, user_id: str, session_id: str, max_queue: int, batch: WriteBatch | None = None
    ) -> None:
        self.user_id = user_id
        self.session_id = session_id
        self.conversations: set[str] = set()
        self.orgs: set[str] = set()
        self.queue: deque[tuple[int, bytes]] | None = None
        self.max_queue = max_queue
        self.wire: Wire | None = None
        # The socket's transport once live (``live_on``) and whether it is paused; the
        # protocol says when that changes (``writing_paused``, ``writable_again``).
        self.transport: asyncio.WriteTransport | None = None
        self.paused = False
        self.last_sent = 0  # the id of the last event frame sent (replayed or live)
        self.overflowed = False
        self.closing_code: int | None = None
        self.wakeup: Callable[[], object] = _nothing  # the ASGI writer's, if there is one
        self.interrupt: Callable[[], object] = _nothing  # stops the gateway reading it
        # Unsubscribes a live connection and gives its slot back; called once.
        self.release: Callable[[Connection], None] = _forget
        # Frames of this loop turn for a live socket (``WriteBatch``): one frame, a list of
        # them, or None when there are none.
        self.batch = batch
        self.pending: bytes | list[bytes] | None = None
        # Whether a frame may go straight into this turn's write: the socket is Knock's and
        # takes more, nothing waits before the frame, the connection is neither closing nor
        # overflowed. What push reads first, one slot instead of five; ``_check_live``
        # sets it again wherever one of them changes.
        self.live = False

    def push(self, event_id: int, frame: bytes) -> None:
        """Send or queue a frame (event_id 0 for control frames); never blocks the caller.
        An event frame at or before ``last_sent`` was sent already (by the replay)."""
        if self.live:
            if event_id > self.last_sent or event_id == 0:
                if event_id:
                    self.last_sent = event_id
                pending = self.pending
                if pending is None:
                    self.pending = frame
                    batch = self.batch
                    if batch is None:
                        self.write_pending()
                    else:
                        dirty = batch.dirty
                        if not dirty:
                            asyncio.get_running_loop().call_soon(batch.flush)
                        dirty.append(self)
                elif isinstance(pending, bytes):
                    self.pending = [pending, frame]
                else:
                    pending.append(frame)
            return
        if self.overflowed or self.closing_code is not None:
            return
        queue = self.queue
        if queue is None:
            queue = self.queue = deque()
        if len(queue) >= self.max_queue:
            self.queue = None  # memory stays bounded: the client resumes from its cursor
            self.overflowed = True
            if self.wire is not None:
                self._end(CLOSE_TRY_AGAIN_LATER, "too slow; resume with your cursor")
            else:
                self.interrupt()
            return
        queue.append((event_id, frame))
        self.wakeup()

    def take_unsent(self) -> list[bytes]:
        """Every queued frame not sent yet, in order; the queue is then gone."""
        frames: list[bytes] = []
        if self.queue is None:
            return frames
        last_sent = self.last_sent
        for event_id, frame in self.queue:
            if event_id == 0:
                frames.append(frame)
            elif event_id > last_sent:
                frames.append(frame)
                last_sent = event_id
        self.queue = None
        self.last_sent = last_sent
        return frames

    def close_with(self, code: int) -> None:
        if self.wire is not None:
            if self.closing_code is None:
                self._flush()
                self._end(code, "")
            return
        self.closing_code = code
        self.live = False
        self.wakeup()

    # Served by Knock's protocol (``wire.SocketOwner``) ----------------------------------

    def live_on(self, wire: Wire) -> bool:
        """Take the socket over from the gateway's endpoint: what queued during the replay
        goes first, then frames go straight out. False if the socket is already gone."""
        if not wire.detach(self):
            return False
        self.wire = wire
        self.transport = wire.transport
        self.paused = wire.paused
        self._flush()
        self._check_live()
        return True

    def text_received(self, data: bytes) -> None:
        if len(data) <= 64:
            try:
                kind = orjson.loads(data).get("type")
            except (orjson.JSONDecodeError, AttributeError):
                return  # not a message of Knock's: ignored
            if kind == "ping":
                self.push(0, PONG)

    def writing_paused(self) -> None:
        self.paused = True
        self.live = False

    def writable_again(self) -> None:
        self.paused = False
        if self.closing_code is None:
            self._flush()
        self._check_live()

    def socket_lost(self) -> None:
        self.closing_code = CLOSE_NORMAL
        self.live = False
        self.queue = self.pending = self.transport = None
        self._release()

    def write_pending(self) -> None:
        """Write this turn's frames now (``write_out``)."""
        write_out((self,))

    def _check_live(self) -> None:
        self.live = (
            self.transport is not None
            and not self.paused
            and not self.queue
            and not self.overflowed
            and self.closing_code is None
        )

    def _flush(self) -> None:
        """This turn's frames, then what queued while the socket could not take more."""
        unsent = self.take_unsent()
        if unsent:
            pending = self.pending
            if pending is None:
                self.pending = unsent
            elif isinstance(pending, bytes):
                self.pending = [pending, *unsent]
            else:
                pending.extend(unsent)
        self.write_pending()

    def _end(self, code: int, reason: str) -> None:
        """Unsubscribe, then close (a full socket can take long to take a close frame)."""
        self.closing_code = code
        self.live = False
        self.queue = self.pending = None
        self._release()
        if self.wire is not None and code != CLOSE_NORMAL:
            self.wire.close(code, reason)

    def _release(self) -> None:
        release, self.release = self.release, _forget
        release(self)


class Registry:
    def __init__(self) -> None:
        self.batch = WriteBatch()  # for the connections the gateway makes
        self.by_user: dict[str, set[Connection]] = {}
        self.by_conversation: dict[str, set[Connection]] = {}
        self.by_org: dict[str, set[Connection]] = {}

    def __len__(self) -> int:
        return sum(len(conns) for conns in self.by_user.values())

    def connections(self) -> Iterator[Connection]:
        for conns in self.by_user.values():
            yield from conns

    def add(
        self, conn: Connection, conversation_ids: Iterable[str], org_ids: Iterable[str]
    ) -> None:
        self.by_user.setdefault(conn.user_id, set()).add(conn)
        for cid in conversation_ids:
            self._subscribe(self.by_conversation, cid, conn, conn.conversations)
        for oid in org_ids:
            self._subscribe(self.by_org, oid, conn, conn.orgs)

    def remove(self, conn: Connection) -> None:
        self._discard(self.by_user, conn.user_id, conn)
        for cid in conn.conversations:
            self._discard(self.by_conversation, cid, conn)
        for oid in conn.orgs:
            self._discard(self.by_org, oid, conn)
        conn.conversations.clear()
        conn.orgs.clear()

    def join_conversation(self, user_ids: Iterable[str], conversation_id: str) -> None:
        for user_id in user_ids:
            for conn in self.by_user.get(user_id, ()):
                self._subscribe(self.by_conversation, conversation_id, conn, conn.conversations)

    def leave_conversation(self, user_id: str, conversation_id: str) -> None:
        for conn in self.by_user.get(user_id, ()):
            conn.conversations.discard(conversation_id)
            self._discard(self.by_conversation, conversation_id, conn)

    def join_org(self, user_id: str, org_id: str) -> None:
        for conn in self.by_user.get(user_id, ()):
            self._subscribe(self.by_org, org_id, conn, conn.orgs)

    def leave_org(self, user_id: str, org_id: str) -> None:
        for conn in self.by_user.get(user_id, ()):
            conn.orgs.discard(org_id)
            self._discard(self.by_org, org_id, conn)

    def audience(
        self, conversation_id: str | None, org_id: str | None, user_ids: Iterable[str]
    ) -> Collection[Connection]:
        """The connections an event goes to, as a snapshot: a push may end a connection,
        which then leaves the indexes. From one index (a conversation's message, the
        commonest fan-out) it is a tuple, cheaper to make and to walk than a set; from
        several, a set, so that a connection in two of them gets the event once."""
        sources = [self.by_user.get(user_id, ()) for user_id in user_ids]
        if conversation_id is not None:
            sources.append(self.by_conversation.get(conversation_id, ()))
        if org_id is not None:
            sources.append(self.by_org.get(org_id, ()))
        if len(sources) == 1:
            return tuple(sources[0])
        found: set[Connection] = set()
        for conns in sources:
            found.update(conns)
        return found

    @staticmethod
    def _subscribe(
        index: dict[str, set[Connection]], key: str, conn: Connection, own: set[str]
    ) -> None:
        index.setdefault(key, set()).add(conn)
        own.add(key)

    @staticmethod
    def _discard(index: dict[str, set[Connection]], key: str, conn: Connection) -> None:
        conns = index.get(key)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del index[key]
