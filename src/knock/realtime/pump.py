"""The event pump: delivers every committed event to this node's connections, in id order.

Envelopes arrive from the broker, possibly out of order across publishers and possibly
with holes (the broker is at-most-once). Ids are gapless and commit-ordered, so when id N+2
arrives before N+1, N+1 is already committed: after a short wait the pump reads it from
the event log. A poll of the log's head also catches events whose publisher died after
commit. Routing updates subscriptions from membership events before delivering them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import orjson

from knock.core.db import Database
from knock.core.events import StoredEvent
from knock.realtime.broker import Broker
from knock.realtime.eventlog import decode_envelope, events_between, last_event_id, log_head
from knock.realtime.registry import Registry
from knock.realtime.wire import text_frame

log = logging.getLogger(__name__)

CLOSE_SESSION_REVOKED = 4001
CATCH_UP_BATCH = 2000
_MEMBERSHIP_TYPES = frozenset(
    {
        "conversation.created",
        "member.joined",
        "member.left",
        "org.member_joined",
        "org.member_removed",
        "session.revoked",
    }
)


class EventPump:
    def __init__(
        self,
        db: Database,
        broker: Broker,
        registry: Registry,
        *,
        gap_wait_s: float = 0.05,
        poll_interval_s: float = 1.0,
        on_session_revoked: Callable[[str], None] = lambda session_id: None,
    ) -> None:
        """``on_session_revoked`` hears every revoked session id, in order with the other
        events (the token cache forgets the session's token)."""
        self._db = db
        self._broker = broker
        self._registry = registry
        self._gap_wait_s = gap_wait_s
        self._poll_interval_s = poll_interval_s
        self._on_session_revoked = on_session_revoked
        self._lock = asyncio.Lock()
        self._early: dict[int, StoredEvent] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._gap_timer: asyncio.TimerHandle | None = None
        self.delivered_upto = 0
        self.delivered_count = 0

    async def start(self) -> None:
        async with self._db.read() as session:
            self.delivered_upto = await last_event_id(session)
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._consume(ready), name="knock-pump-consume"),
            asyncio.create_task(self._poll(), name="knock-pump-poll"),
        ]
        await ready.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[int]:
        """Hold delivery (for a consistent snapshot); yields the last delivered id."""
        async with self._lock:
            yield self.delivered_upto

    async def _consume(self, ready: asyncio.Event) -> None:
        stream = self._broker.subscribe()
        ready.set()
        async for envelope in stream:
            try:
                await self.offer(decode_envelope(envelope))
            except Exception:  # one bad envelope must not stop delivery
                log.exception("cannot deliver an envelope")

    async def offer(self, event: StoredEvent) -> None:
        async with self._lock:
            if event.id <= self.delivered_upto:
                return
            if event.id > self.delivered_upto + 1:
                self._early[event.id] = event
                self._schedule_gap_fill()
                return
            self._dispatch(event)
            self._drain_early()

    def _drain_early(self) -> None:
        while (following := self._early.pop(self.delivered_upto + 1, None)) is not None:
            self._dispatch(following)
        if not self._early and self._gap_timer is not None:
            self._gap_timer.cancel()
            self._gap_timer = None

    def _schedule_gap_fill(self) -> None:
        if self._gap_timer is None:
            loop = asyncio.get_running_loop()
            self._gap_timer = loop.call_later(
                self._gap_wait_s, lambda: self._tasks.append(loop.create_task(self._fill_gap()))
            )

    async def _fill_gap(self) -> None:
        self._gap_timer = None
        async with self._lock:
            if not self._early:
                return
            await self._catch_up_locked(max(self._early))

    async def _catch_up_locked(self, upto: int) -> None:
        """Deliver everything up to ``upto`` from the log (the truth) and what came early."""
        upto = min(upto, self.delivered_upto + CATCH_UP_BATCH)
        async with self._db.read() as session:
            missing = await events_between(session, self.delivered_upto, upto)
        merged = {event.id: event for event in missing}
        merged.update((i, e) for i, e in self._early.items() if i <= upto)
        for event_id in sorted(merged):
            if event_id > self.delivered_upto:
                self._dispatch(merged[event_id])
        self._early = {i: e for i, e in self._early.items() if i > self.delivered_upto}
        self._drain_early()
        if self._early:
            self._schedule_gap_fill()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval_s)
            try:
                head = await log_head(self._db)
                if head > self.delivered_upto:
                    async with self._lock:
                        await self._catch_up_locked(head)
                self._tasks = [t for t in self._tasks if not t.done()]
            except Exception:
                log.exception("event log poll failed")

    def _dispatch(self, event: StoredEvent) -> None:
        self.delivered_upto = event.id
        registry = self._registry
        aud = event.audience
        payload = orjson.loads(event.frame) if event.type in _MEMBERSHIP_TYPES else None
        if payload is not None:
            if event.type == "conversation.created":
                # The frame lists only some members; the audience names them all.
                registry.join_conversation(aud.user_ids, payload["conversation"]["id"])
            elif event.type == "member.joined":
                registry.join_conversation(payload["user_ids"], payload["conversation_id"])
            elif event.type == "org.member_joined":
                registry.join_org(payload["member"]["user_id"], payload["org_id"])
            elif event.type == "session.revoked":
                self._on_session_revoked(payload["session_id"])
                for conn in list(registry.by_user.get(aud.user_ids[0], ())):
                    if conn.session_id == payload["session_id"]:
                        conn.close_with(CLOSE_SESSION_REVOKED)
                return
        frame = text_frame(event.frame)  # once, for every recipient
        event_id = event.id
        for conn in registry.audience(aud.conversation_id, aud.org_id, aud.user_ids):
            conn.push(event_id, frame)
        self.delivered_count += 1
        if payload is not None:
            if event.type == "member.left":
                registry.leave_conversation(payload["user_id"], payload["conversation_id"])
            elif event.type == "org.member_removed":
                registry.leave_org(payload["user_id"], payload["org_id"])
