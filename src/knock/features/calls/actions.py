"""Voice conferences: start, join, leave, mute, end, and the call's life on its node.

A call is pinned to the node (process) that started it: that node's mixer holds every
participant's audio, so joins must reach it (elsewhere: 409 ``call_on_other_node`` naming
its URL). Leaving, muting and ending are database changes any node may make; the owning node
applies them to its mixer at once when they reach it, and otherwise on its next upkeep pass.
Calls whose node stopped renewing their lease are ended by whichever node notices first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database, Transaction
from knock.core.errors import Conflict, Forbidden, InvalidInput, KnockError, NotFound
from knock.core.events import Audience
from knock.core.ids import ID_LENGTH, new_id
from knock.features.calls import repository as repo
from knock.features.calls.events import CallEnded, CallStarted, CallUpdated
from knock.features.calls.ice import PortRangeExhausted, ice_servers
from knock.features.calls.models import Call, CallParticipant
from knock.features.calls.schemas import CallOut, IceServerOut, JoinCallOut, ParticipantOut
from knock.features.calls.sdp import OfferRejected
from knock.features.conversations.actions import access_conversation
from knock.features.conversations.models import ConversationMember
from knock.features.orgs.actions import access_org, is_admin
from knock.workers.periodic import PeriodicJob, flush_when_poked

log = logging.getLogger(__name__)

OnSpeaking = Callable[[str, frozenset[str]], Awaitable[None]]
OnGone = Callable[[str, str], Awaitable[None]]


class MediaUnavailable(KnockError):
    status = 503
    code = "media_unavailable"
    default_message = "This node has no free media port for another participant; try again."


class CallMedia(Protocol):
    """The mixer of this node's calls (``knock.features.calls.media.ConferenceMedia``)."""

    async def join(self, call_id: str, user_id: str, offer_sdp: str) -> str: ...
    async def leave(self, call_id: str, user_id: str) -> None: ...
    def set_muted(self, call_id: str, user_id: str, muted: bool) -> None: ...
    async def end(self, call_id: str) -> None: ...
    def participants(self, call_id: str) -> frozenset[str]: ...
    async def close(self) -> None: ...


@dataclass(frozen=True)
class NodeIdentity:
    """This process: a random id (a restart is a new node) and the URL clients reach it at."""

    id: str
    url: str

    @classmethod
    def of(cls, settings: Settings) -> NodeIdentity:
        url = settings.node_url or f"http://{settings.host}:{settings.port}"
        return cls(id=new_id(), url=url.rstrip("/"))


def call_out(
    call: Call, present: list[CallParticipant], speaking: frozenset[str] = frozenset()
) -> CallOut:
    return CallOut(
        id=call.id,
        org_id=call.org_id,
        conversation_id=call.conversation_id,
        started_by=call.started_by,
        status="active" if call.status == "active" else "ended",
        node_url=call.node_url,
        started_at=call.started_at,
        ended_at=call.ended_at,
        participants=[
            ParticipantOut(
                user_id=p.user_id,
                joined_at=p.joined_at,
                muted=p.muted,
                speaking=p.user_id in speaking and not p.muted,
            )
            for p in present
        ],
    )


async def access_call(
    session: AsyncSession, user_id: str, call_id: str, *, lock: bool = False
) -> tuple[Call, ConversationMember]:
    """The call and the caller's membership of its conversation; NotFound unless they are a
    member. ``lock`` (in a transaction) locks the call row."""
    if len(call_id) > ID_LENGTH:
        raise NotFound()
    call = await (repo.lock_call_txn if lock else repo.call_by_id)(session, call_id)
    if call is None:
        raise NotFound()
    _, member = await access_conversation(session, user_id, call.conversation_id)
    return call, member


def audience(call: Call) -> Audience:
    return Audience(conversation_id=call.conversation_id)


def check_active(call: Call) -> None:
    if call.status != "active":
        raise Conflict("This call has ended.", code="call_ended")


def check_sdp_offer(sdp: str) -> None:
    """A cheap shape check before the mixer parses it: an SDP session with an audio section."""
    if not sdp.startswith("v=0") or "m=audio" not in sdp:
        raise InvalidInput("sdp: an SDP offer (v=0 …) with an audio section (m=audio).")


class Calls:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        node: NodeIdentity,
        build_media: Callable[[OnSpeaking, OnGone], CallMedia],
    ) -> None:
        self._db = db
        self._settings = settings
        self.node = node
        # The mixer is built when this node first needs one (see _load_media): building it
        # imports aiortc, PyAV and numpy, more than a second that a start should not pay.
        self._build_media = build_media
        self._media: CallMedia | None = None
        self._media_loading: asyncio.Future[CallMedia] | None = None
        # The mixer's latest word on who speaks, per call of this node.
        self._speaking: dict[str, frozenset[str]] = {}
        self._speaking_changed: set[str] = set()
        self._speaking_poked = asyncio.Event()  # set when _speaking_changed gains a call
        # Joins between the mixer's answer and their commit: upkeep leaves them alone.
        self._joining: set[tuple[str, str]] = set()
        # Calls whose audio this node's mixer holds.
        self._local: set[str] = set()
        self._flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._flusher = asyncio.create_task(
            flush_when_poked(
                self._speaking_poked,
                self._settings.call_speaking_interval_ms / 1000,
                self.flush_speaking,
                "sending who speaks",
            ),
            name="call-speaking",
        )

    async def _render(self, session: AsyncSession, call: Call) -> CallOut:
        present = await repo.present_participants(session, call.id)
        return call_out(call, present, self._speaking.get(call.id, frozenset()))

    def _load_media(self) -> asyncio.Future[CallMedia]:
        """Start building this node's mixer (once). It is built in a thread, so the imports
        it brings do not stall the event loop; a call started here begins it, and its joins
        wait for it."""
        if self._media_loading is None:
            self._media_loading = asyncio.ensure_future(
                asyncio.to_thread(self._build_media, self.on_speaking, self.on_gone)
            )
        return self._media_loading

    async def _mixer(self) -> CallMedia:
        """The mixer, built first if it is not yet."""
        if self._media is None:
            # Shielded: a join cancelled while waiting must not cancel the build others wait on.
            self._media = await asyncio.shield(self._load_media())
        return self._media

    async def _mixer_if_any(self) -> CallMedia | None:
        """The mixer if one is built or being built; None if this node never needed one (it
        then holds no audio, so there is nothing to leave, mute or end in it)."""
        if self._media is None and self._media_loading is None:
            return None
        return await self._mixer()

    def _ice_servers(self, user_id: str) -> list[IceServerOut]:
        return [
            IceServerOut(urls=s.urls, username=s.username, credential=s.credential)
            for s in ice_servers(self._settings, user_id)
        ]

    def mixer_participants(self, call_id: str) -> frozenset[str]:
        """Who this node's mixer has in the call (for operators and tests)."""
        return self._media.participants(call_id) if self._media is not None else frozenset()

    def _is_local(self, call: Call) -> bool:
        return call.node_id == self.node.id

    async def call(self, user_id: str, call_id: str) -> CallOut:
        async with self._db.read() as session:
            call, _ = await access_call(session, user_id, call_id)
            return await self._render(session, call)

    async def active_call(self, user_id: str, conversation_id: str) -> CallOut:
        async with self._db.read() as session:
            await access_conversation(session, user_id, conversation_id)
            call = await repo.active_call_of(session, conversation_id)
            if call is None:
                raise NotFound("No call is going on in this conversation.")
            return await self._render(session, call)

    async def do_start_call(self, user_id: str, conversation_id: str) -> tuple[CallOut, bool]:
        """The new call on this node (True), or the one already going on (False)."""
        try:
            async with self._db.transaction() as txn:
                conversation, _ = await access_conversation(txn.session, user_id, conversation_id)
                existing = await repo.active_call_of(txn.session, conversation_id)
                if existing is not None:
                    return await self._render(txn.session, existing), False
                now = utcnow()
                call = Call(
                    id=new_id(),
                    org_id=conversation.org_id,
                    conversation_id=conversation_id,
                    active_conversation_id=conversation_id,
                    started_by=user_id,
                    node_id=self.node.id,
                    node_url=self.node.url,
                    status="active",
                    started_at=now,
                    ended_at=None,
                    lease_until=self._lease_from(now),
                )
                await repo.insert_call_txn(txn.session, call)
                out = call_out(call, [])
                txn.emit(CallStarted(call=out), audience(call))
            # Joins come next, to this node: have the mixer ready for them.
            self._load_media()
            return out, True
        except IntegrityError:
            # Someone else started one at the same moment: theirs is the call.
            return await self.active_call(user_id, conversation_id), False

    def _lease_from(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._settings.call_lease_s)

    async def do_join_call(self, user_id: str, call_id: str, sdp: str) -> JoinCallOut:
        """Connect the caller's audio to the mixer and put them in the call."""
        check_sdp_offer(sdp)
        async with self._db.read() as session:
            call, _ = await access_call(session, user_id, call_id)
            self._check_joinable(call)
            await self._check_room(session, call, user_id)
        key = (call_id, user_id)
        self._joining.add(key)
        try:
            try:
                media = await self._mixer()
                answer = await media.join(call_id, user_id, sdp)
                self._local.add(call_id)
            except OfferRejected as exc:
                raise InvalidInput(f"sdp: {exc}.") from None
            except PortRangeExhausted:
                raise MediaUnavailable() from None
            try:
                out = await self._enter(user_id, call_id)
            except BaseException:
                await media.leave(call_id, user_id)
                raise
        finally:
            self._joining.discard(key)
        return JoinCallOut(call=out, sdp=answer, ice_servers=self._ice_servers(user_id))

    def _check_joinable(self, call: Call) -> None:
        check_active(call)
        if not self._is_local(call):
            raise Conflict(
                f"This call runs on another node: join it through {call.node_url}.",
                code="call_on_other_node",
            )

    async def _check_room(self, session: AsyncSession, call: Call, user_id: str) -> None:
        present = await repo.present_participants(session, call.id)
        others = [p for p in present if p.user_id != user_id]
        if len(others) >= self._settings.call_max_participants:
            raise Conflict(
                f"This call is full ({self._settings.call_max_participants} people).",
                code="call_full",
            )

    async def _enter(self, user_id: str, call_id: str) -> CallOut:
        async with self._db.transaction() as txn:
            call, _ = await access_call(txn.session, user_id, call_id, lock=True)
            self._check_joinable(call)
            await self._check_room(txn.session, call, user_id)
            await repo.enter_txn(txn.session, call_id, user_id, utcnow())
            out = await self._render(txn.session, call)
            txn.emit(CallUpdated(call=out), audience(call))
            return out

    async def do_leave_call(self, user_id: str, call_id: str) -> CallOut:
        """Take the caller out of the call; the last one out ends it. Leaving a call one is
        not in changes nothing."""
        async with self._db.transaction() as txn:
            call, _ = await access_call(txn.session, user_id, call_id, lock=True)
            out = await self._leave_txn(txn, call, user_id)
        if self._is_local(call):
            await self._leave_mixer(call_id, user_id)
            if out.status == "ended":
                await self._end_media(call_id)
        return out

    async def _leave_txn(self, txn: Transaction, call: Call, user_id: str) -> CallOut:
        if call.status != "active":
            return await self._render(txn.session, call)
        now = utcnow()
        if not await repo.leave_txn(txn.session, call.id, user_id, now):
            return await self._render(txn.session, call)
        if await repo.count_present_txn(txn.session, call.id) == 0:
            return await self._end_txn(txn, call, now)
        out = await self._render(txn.session, call)
        txn.emit(CallUpdated(call=out), audience(call))
        return out

    async def _end_txn(self, txn: Transaction, call: Call, now: datetime) -> CallOut:
        await repo.end_call_txn(txn.session, call, now)
        out = call_out(call, [])
        txn.emit(CallEnded(call=out), audience(call))
        return out

    async def _end_media(self, call_id: str) -> None:
        self._speaking.pop(call_id, None)
        self._speaking_changed.discard(call_id)
        self._local.discard(call_id)
        media = await self._mixer_if_any()
        if media is not None:
            await media.end(call_id)

    async def _leave_mixer(self, call_id: str, user_id: str) -> None:
        media = await self._mixer_if_any()
        if media is not None:
            await media.leave(call_id, user_id)

    async def do_mute(self, user_id: str, call_id: str, muted: bool) -> CallOut:
        """Mute or unmute the caller in the call: the mixer stops (or resumes) mixing them."""
        async with self._db.transaction() as txn:
            call, _ = await access_call(txn.session, user_id, call_id, lock=True)
            check_active(call)
            if not await repo.set_muted_txn(txn.session, call_id, user_id, muted):
                raise Conflict("You are not in this call.", code="not_in_call")
            out = await self._render(txn.session, call)
            txn.emit(CallUpdated(call=out), audience(call))
        media = await self._mixer_if_any() if self._is_local(call) else None
        if media is not None:
            media.set_muted(call_id, user_id, muted)
        return out

    async def do_end_call(self, user_id: str, call_id: str) -> CallOut:
        """End the call for everyone: whoever started it, the group's owner or an org admin.
        Ending an ended call answers it as it is."""
        async with self._db.transaction() as txn:
            call, member = await access_call(txn.session, user_id, call_id, lock=True)
            if call.status != "active":
                return await self._render(txn.session, call)
            if call.started_by != user_id and member.role != "owner":
                org_member = await access_org(txn.session, user_id, call.org_id)
                if not is_admin(org_member):
                    raise Forbidden(
                        "Only whoever started the call, the group's owner or an admin may "
                        "end it for everyone; leave it instead."
                    )
            out = await self._end_txn(txn, call, utcnow())
        if self._is_local(call):
            await self._end_media(call_id)
        return out

    async def on_gone(self, call_id: str, user_id: str) -> None:
        """The mixer lost a participant's connection: they left."""
        if (call_id, user_id) not in self._joining:
            await self._take_out(call_id, user_id)

    async def _take_out(self, call_id: str, user_id: str) -> None:
        """Someone leaves without asking (connection lost, no longer a member)."""
        async with self._db.transaction() as txn:
            call = await repo.lock_call_txn(txn.session, call_id)
            if call is None:
                return
            out = await self._leave_txn(txn, call, user_id)
        await self._leave_mixer(call_id, user_id)
        if out.status == "ended":
            await self._end_media(call_id)

    async def on_speaking(self, call_id: str, speaking: frozenset[str]) -> None:
        """The mixer's voice activity; sent as ``call.updated`` by ``flush_speaking`` at most
        once per call per interval, and only when it changed."""
        if self._speaking.get(call_id, frozenset()) != speaking:
            self._speaking[call_id] = speaking
            self._speaking_changed.add(call_id)
            self._speaking_poked.set()

    async def flush_speaking(self) -> int:
        """One ``call.updated`` per call whose speakers changed since the last flush."""
        changed, self._speaking_changed = self._speaking_changed, set()
        sent = 0
        for call_id in sorted(changed):
            async with self._db.transaction() as txn:
                call = await repo.call_by_id(txn.session, call_id)
                if call is None or call.status != "active":
                    continue
                out = await self._render(txn.session, call)
                txn.emit(CallUpdated(call=out), audience(call))
                sent += 1
        return sent

    async def upkeep(self) -> int:
        """Renew this node's leases, end calls whose node is gone, and bring the mixer in
        line with the database (leaves and ends made on other nodes). Returns how many
        calls it ended."""
        now = utcnow()
        async with self._db.read() as session:
            own = await repo.active_calls_of_node(session, self.node.id)
            lapsed = await repo.calls_with_lapsed_lease(session, now, 100)
        if own:
            # Only then: an idle node takes no write lock (SQLite has one) every pass.
            async with self._db.transaction() as txn:
                await repo.renew_leases_txn(txn.session, self.node.id, self._lease_from(now))
        ended = 0
        for call_id in lapsed:
            ended += await self._end_if(call_id, lambda call: call.lease_until < now)
        ended += await self._reconcile_media(now)
        return ended

    async def _end_if(self, call_id: str, due: Callable[[Call], bool]) -> int:
        async with self._db.transaction() as txn:
            call = await repo.lock_call_txn(txn.session, call_id)
            if call is None or call.status != "active" or not due(call):
                return 0
            await self._end_txn(txn, call, utcnow())
        if self._is_local(call):
            await self._end_media(call_id)
        return 1

    async def _reconcile_media(self, now: datetime) -> int:
        ended = 0
        grace = timedelta(seconds=self._settings.call_lease_s)
        for call_id in await self._local_call_ids():
            async with self._db.read() as session:
                call = await repo.call_by_id(session, call_id)
                present = {p.user_id for p in await repo.present_participants(session, call_id)}
                outsiders = await repo.present_non_members(session, call_id)
            if call is None or call.status != "active":
                await self._end_media(call_id)
                continue
            for user_id in outsiders:
                # Removed from the conversation (or the team) while in its call.
                await self._take_out(call_id, user_id)
                present.discard(user_id)
            for user_id in self.mixer_participants(call_id) - present:
                if (call_id, user_id) not in self._joining:
                    await self._leave_mixer(call_id, user_id)
            if not present and call.started_at < now - grace:
                # Started and never joined (or every join failed): nobody will end it.
                ended += await self._end_if(call_id, lambda c: True)
        return ended

    async def _local_call_ids(self) -> list[str]:
        async with self._db.read() as session:
            own = await repo.active_calls_of_node(session, self.node.id)
        return sorted(set(own) | self._local)

    async def close(self) -> None:
        """Shutting down: this node's calls end (their audio goes with the process)."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        async with self._db.read() as session:
            own = await repo.active_calls_of_node(session, self.node.id)
        for call_id in own:
            try:
                await self._end_if(call_id, lambda call: True)
            except Exception:
                # The database may be gone too; the lease then ends the call elsewhere.
                log.exception("could not end call %s at shutdown", call_id)
        try:
            media = await self._mixer_if_any()
        except Exception:
            log.exception("the mixer could not be built; there is none to close")
            return
        if media is not None:
            await media.close()


def call_upkeep(calls: Calls, lease_s: int) -> PeriodicJob:
    return PeriodicJob(
        "call-upkeep",
        lease_s / 3,
        calls.upkeep,
        "ended %d calls whose node went away or that nobody joined",
    )
