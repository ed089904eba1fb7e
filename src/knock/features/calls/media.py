"""The voice-conference media server: one WebRTC peer per participant, one mixer per call.

Each participant sends one Opus audio track. A reader task per participant turns aiortc's
decoded frames into 20 ms mono int16 frames in a small jitter queue; one mixer task per call
ticks every 20 ms on a monotonic schedule, takes one frame from each queue, and gives every
participant the mix of everyone but themself (:func:`knock.features.calls.mixer.mix_minus`).
Everyone who is not talking hears the same mix, so it is encoded to Opus (48 kHz, 20 ms) once
and the packet is shared; each talker's own mix gets its own encoder. The encoding runs in a
thread pool, off the event loop. Each participant's outgoing track has its own small queue
of packets that drops its oldest when the peer does not keep up, so a stalled peer never
holds up the mixer or anyone else; aiortc sends the packets as they are.

The signalling (:mod:`knock.features.calls.actions`) owns who may join; this module only moves
audio. It calls back ``on_speaking(call_id, user_ids)`` when the set of people speaking in a
call changes (at most every :data:`SPEAKING_REPORT_S`), and ``on_gone(call_id, user_id)`` when
a participant's connection fails or closes without a :meth:`ConferenceMedia.leave`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from knock.config import Settings
from knock.features.calls import rtc
from knock.features.calls.ice import HostPolicy, PortRangeExhausted
from knock.features.calls.mixer import (
    FRAME_S,
    FRAME_SAMPLES,
    SILENCE_RMS,
    Samples,
    SpeakingGate,
    levels,
    mix_minus,
)
from knock.features.calls.opus import TIME_BASE, InputConverter, OpusStream
from knock.features.calls.sdp import OfferRejected, ask_for_dtx, check_offer

log = logging.getLogger(__name__)

OnSpeaking = Callable[[str, frozenset[str]], Awaitable[None]]
OnGone = Callable[[str, str], Awaitable[None]]

# Input frames a participant may have waiting (100 ms): absorbs network jitter and bursts;
# older frames are dropped so that a burst after a stall does not turn into lasting delay.
JITTER_FRAMES = 5
# A queue that stays longer than this for BACKLOG_TICKS ticks in a row (a sender whose clock
# runs a little fast, or the tail of a burst) loses one frame, so the delay it adds settles
# back to at most JITTER_TARGET frames (20 ms) instead of staying at JITTER_FRAMES.
JITTER_TARGET = 1
BACKLOG_TICKS = 25
# Mixed frames waiting for a participant's encoder (60 ms): a peer that stops reading loses
# its oldest audio instead of holding anything up.
OUTGOING_FRAMES = 3
# A mixer more than this late (a paused process, an overloaded core) restarts its schedule
# instead of bursting out the ticks it missed.
MAX_LAG_S = 0.2
# The speaking set is reported at most this often (four times a second).
SPEAKING_REPORT_S = 0.25


class MixTrack(MediaStreamTrack):
    """What one participant hears, as Opus packets: the mixer pushes, aiortc's sender pulls
    and sends them as they are (aiortc passes an ``av.Packet`` through without re-encoding)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._packets: deque[tuple[int, bytes]] = deque(maxlen=OUTGOING_FRAMES)
        self._ready = asyncio.Event()
        self._pts = 0

    def push(self, packet: bytes) -> None:
        """Never blocks: when full, the oldest packet goes (the timestamps keep the gap)."""
        self._packets.append((self._pts, packet))
        self._pts += FRAME_SAMPLES
        self._ready.set()

    def waiting(self) -> int:
        return len(self._packets)

    async def recv(self) -> av.Packet[Any]:
        while not self._packets:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        pts, data = self._packets.popleft()
        packet = av.Packet(data)
        packet.pts = pts
        packet.time_base = TIME_BASE
        return packet

    def stop(self) -> None:
        super().stop()
        self._ready.set()


class Participant:
    """One person's audio in one call: their input queue, their mix, their peer connection."""

    def __init__(self, user_id: str, peer: RTCPeerConnection | None = None) -> None:
        self.user_id = user_id
        self.peer = peer
        self.inbox: deque[Samples] = deque(maxlen=JITTER_FRAMES)
        self.outgoing = MixTrack()
        self.muted = False
        self.gate = SpeakingGate()
        self.encoder: OpusStream | None = None  # made when they first talk (see Conference)
        self._backlog = 0
        self._converter = InputConverter()
        self._reader: asyncio.Task[None] | None = None

    def hear(self, frame: av.AudioFrame) -> None:
        """One decoded input frame in (the benchmark calls this directly)."""
        self.inbox.extend(self._converter.convert(frame))

    def next_frame(self) -> Samples | None:
        """This tick's input frame, if one arrived; trims a standing backlog (see above)."""
        if not self.inbox:
            self._backlog = 0
            return None
        frame = self.inbox.popleft()
        self._backlog = self._backlog + 1 if len(self.inbox) > JITTER_TARGET else 0
        if self._backlog >= BACKLOG_TICKS:
            self.inbox.popleft()
            self._backlog = 0
        return frame

    def listen(self, track: MediaStreamTrack) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    self.hear(frame)

    async def close(self) -> None:
        self.outgoing.stop()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.peer is not None:
            await self.peer.close()


@dataclass(frozen=True)
class TickMix:
    """One tick's result before encoding: one shared mix for everyone who did not talk, and
    one mix-minus per talker."""

    listeners: list[Participant]
    listener_mix: Samples
    talkers: list[Participant]
    talker_mixes: npt.NDArray[np.int16]


class Conference:
    """The participants of one call and the mixer that ticks for them every 20 ms."""

    def __init__(
        self,
        call_id: str,
        on_speaking: OnSpeaking | None = None,
        encoding: Executor | None = None,
    ) -> None:
        self.call_id = call_id
        self._encoding = encoding
        self._listener_stream = OpusStream()
        self.people: dict[str, Participant] = {}
        self.speaking: frozenset[str] = frozenset()
        self._on_speaking = on_speaking
        self._reported: frozenset[str] = frozenset()
        self._reported_at = float("-inf")
        self._reports: set[asyncio.Task[None]] = set()
        self._mixer: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._mixer is None:
            self._mixer = asyncio.create_task(self._run(), name=f"mixer {self.call_id}")

    async def stop(self) -> None:
        if self._mixer is not None:
            self._mixer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._mixer
            self._mixer = None
        people, self.people = list(self.people.values()), {}
        await asyncio.gather(*(p.close() for p in people), return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start, tick = loop.time(), 0
        while True:
            tick += 1
            delay = start + tick * FRAME_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -MAX_LAG_S:
                start, tick = loop.time(), 0
            try:
                mix = self.mix()
                # Opus encoding is the tick's real cost: off the event loop, in a thread.
                packets = await loop.run_in_executor(self._encoding, self.encode, mix)
                self.deliver(packets)
                self._report_speaking(loop.time())
            except Exception:
                log.exception("mixer tick failed in call %s", self.call_id)

    def tick(self) -> None:
        """One 20 ms step, all in this thread (the mixer task encodes in another)."""
        self.deliver(self.encode(self.mix()))

    def mix(self) -> TickMix:
        """One frame in from everyone who sent one; what each must hear, as samples."""
        people = list(self.people.values())
        heard: list[Participant] = []
        frames: list[Samples] = []
        for person in people:
            frame = person.next_frame()  # a muted person's queue is drained all the same
            if frame is not None and not person.muted:
                heard.append(person)
                frames.append(frame)
        level_of: dict[str, float] = {}
        talkers: list[Participant] = []
        inputs = np.empty((0, FRAME_SAMPLES), np.int16)
        if frames:
            stacked = np.stack(frames)
            heard_levels = levels(stacked)
            level_of = {p.user_id: float(v) for p, v in zip(heard, heard_levels, strict=True)}
            loud = heard_levels > SILENCE_RMS
            inputs = stacked[loud]
            talkers = [p for p, on in zip(heard, loud, strict=True) if on]
        mix = mix_minus(inputs)
        speaking = []
        for person in people:
            if person.gate.update(level_of.get(person.user_id, 0.0)):
                speaking.append(person.user_id)
        self.speaking = frozenset(speaking)
        in_mix = {id(p) for p in talkers}
        listeners = [p for p in people if id(p) not in in_mix]
        return TickMix(listeners, mix.listener, talkers, mix.speakers)

    def encode(self, mix: TickMix) -> list[tuple[list[Participant], bytes]]:
        """Everyone who did not talk hears the same mix: it is encoded once and the same packet
        goes to all of them, so a listener costs no encoding. Each talker hears everyone but
        themself, encoded by their own encoder."""
        out: list[tuple[list[Participant], bytes]] = []
        if mix.listeners:
            packet = self._listener_stream.encode(mix.listener_mix)
            if packet is not None:
                out.append((mix.listeners, packet))
        for person, samples in zip(mix.talkers, mix.talker_mixes, strict=True):
            if person.encoder is None:
                person.encoder = OpusStream()
            packet = person.encoder.encode(samples)
            if packet is not None:
                out.append(([person], packet))
        return out

    @staticmethod
    def deliver(packets: list[tuple[list[Participant], bytes]]) -> None:
        for people, packet in packets:
            for person in people:
                person.outgoing.push(packet)

    def _report_speaking(self, now: float) -> None:
        if self._on_speaking is None or self.speaking == self._reported:
            return
        if now - self._reported_at < SPEAKING_REPORT_S:
            return
        self._reported, self._reported_at = self.speaking, now
        task = asyncio.create_task(self._report(self._on_speaking, self.speaking))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _report(self, on_speaking: OnSpeaking, speaking: frozenset[str]) -> None:
        try:
            await on_speaking(self.call_id, speaking)
        except Exception:
            log.exception("on_speaking failed for call %s", self.call_id)


class ConferenceMedia:
    """All calls whose media this node holds. The interface the signalling calls.

    ``on_speaking(call_id, user_ids)``: the speaking set of a call changed (≤ 4 times/s).
    ``on_gone(call_id, user_id)``: a participant's connection failed or closed on its own (not
    through :meth:`leave`/:meth:`end`); they are already out of the mix.
    How many may join a call is the signalling's rule (``KNOCK_CALL_MAX_PARTICIPANTS``).
    """

    def __init__(
        self, settings: Settings, on_speaking: OnSpeaking, on_gone: OnGone | None = None
    ) -> None:
        rtc.install()
        self._settings = settings
        self._policy = HostPolicy.from_settings(settings)
        self._on_speaking = on_speaking
        self._on_gone = on_gone
        self._calls: dict[str, Conference] = {}
        # libopus runs without the GIL: encoding threads use every core.
        self._encoding = ThreadPoolExecutor(
            max_workers=os.cpu_count() or 2, thread_name_prefix="knock-opus"
        )

    async def join(self, call_id: str, user_id: str, offer_sdp: str) -> str:
        """Answer a participant's offer (non-trickle: the answer has every candidate). A user
        already in the call is replaced: their old connection closes. Raises
        :class:`OfferRejected` (a ``ValueError``) for an offer the mixer cannot use."""
        check_offer(offer_sdp)
        peer = RTCPeerConnection(configuration=rtc.server_configuration(self._settings))
        person = Participant(user_id, peer)
        peer.on("track", person.listen)
        peer.on("connectionstatechange", lambda: self._watch(call_id, person))
        try:
            with rtc.host_policy(self._policy):
                await peer.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
                peer.addTrack(person.outgoing)
                answer = await peer.createAnswer()
                await peer.setLocalDescription(
                    RTCSessionDescription(ask_for_dtx(answer.sdp), answer.type)
                )
        except PortRangeExhausted:
            await person.close()
            raise
        except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
            # aiortc's SDP parser reports a malformed offer with whatever it tripped on.
            await person.close()
            raise OfferRejected(f"the offer cannot be used: {exc}") from None
        conference = self._calls.get(call_id)
        if conference is None:
            conference = Conference(call_id, self._on_speaking, self._encoding)
            self._calls[call_id] = conference
        old = conference.people.get(user_id)
        conference.people[user_id] = person
        conference.start()
        if old is not None:
            await old.close()
        return peer.localDescription.sdp

    async def leave(self, call_id: str, user_id: str) -> None:
        conference = self._calls.get(call_id)
        person = conference.people.pop(user_id, None) if conference else None
        if person is None or conference is None:
            return
        await person.close()
        if not conference.people:
            await self._forget(conference)

    def set_muted(self, call_id: str, user_id: str, muted: bool) -> None:
        conference = self._calls.get(call_id)
        person = conference.people.get(user_id) if conference else None
        if person is not None:
            person.muted = muted

    async def end(self, call_id: str) -> None:
        conference = self._calls.pop(call_id, None)
        if conference is not None:
            await conference.stop()

    def participants(self, call_id: str) -> frozenset[str]:
        conference = self._calls.get(call_id)
        return frozenset(conference.people) if conference else frozenset()

    def speaking(self, call_id: str) -> frozenset[str]:
        conference = self._calls.get(call_id)
        return conference.speaking if conference else frozenset()

    async def close(self) -> None:
        calls, self._calls = list(self._calls.values()), {}
        await asyncio.gather(*(c.stop() for c in calls), return_exceptions=True)
        self._encoding.shutdown(wait=True)

    async def _forget(self, conference: Conference) -> None:
        if self._calls.get(conference.call_id) is conference:
            del self._calls[conference.call_id]
        await conference.stop()

    async def _watch(self, call_id: str, person: Participant) -> None:
        if person.peer is None or person.peer.connectionState not in ("failed", "closed"):
            return
        conference = self._calls.get(call_id)
        if conference is None or conference.people.get(person.user_id) is not person:
            return  # already left, replaced or ended
        del conference.people[person.user_id]
        await person.close()
        if not conference.people:
            await self._forget(conference)
        if self._on_gone is not None:
            await self._on_gone(call_id, person.user_id)
