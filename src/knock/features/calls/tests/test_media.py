"""The media server end to end on 127.0.0.1: three aiortc clients in one call, checked by FFT.

Each client sends its own tone (440, 660, 990 Hz). Through the real ICE, DTLS, SRTP and Opus
path each must hear the other two tones and not its own; a muted client must drop out of the
others' mix; a client that stops reading must not disturb the others; a client that vanishes
is reported through ``on_gone``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from knock.config import load_settings
from knock.features.calls import ice, rtc
from knock.features.calls.media import ConferenceMedia
from knock.features.calls.mixer import FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from knock.features.calls.opus import InputConverter
from knock.features.calls.sdp import OfferRejected

TONES = {"ann": 440.0, "bob": 660.0, "cat": 990.0}
AMPLITUDE = 6000
# Amplitudes (in int16 units) read off the spectrum: a tone someone sends arrives near
# AMPLITUDE after Opus (lower when a loaded machine drops frames: a missing frame is silence);
# a tone that should be absent must stay at codec-noise level (measured: under 60).
HEARD = 700.0
ABSENT = 150.0
LOCALHOST = ice.HostPolicy(addresses=("127.0.0.1",))


class ToneTrack(MediaStreamTrack):
    """A microphone playing one sine, paced in real time like a real one."""

    kind = "audio"

    def __init__(self, hz: float) -> None:
        super().__init__()
        self._hz = hz
        self._sent = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        delay = self._start + self._sent * FRAME_S - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (np.arange(FRAME_SAMPLES) + self._sent * FRAME_SAMPLES) / SAMPLE_RATE
        samples = (AMPLITUDE * np.sin(2 * np.pi * self._hz * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._sent * FRAME_SAMPLES
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self._sent += 1
        return frame


class Client:
    """One participant's browser, played by aiortc: sends a tone, records what it hears."""

    def __init__(self, name: str, configuration: RTCConfiguration | None = None) -> None:
        self.name = name
        self.peer = RTCPeerConnection(configuration or RTCConfiguration(iceServers=[]))
        self.peer.addTrack(ToneTrack(TONES[name]))
        self.heard: list[npt.NDArray[np.int16]] = []
        self.more = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None
        self.peer.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._recorder = asyncio.create_task(self._record(track))

    async def _record(self, track: MediaStreamTrack) -> None:
        converter = InputConverter()
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, av.AudioFrame)
                self.heard.extend(converter.convert(frame))
                self.more.set()

    async def offer(self) -> str:
        with rtc.host_policy(LOCALHOST):
            await self.peer.setLocalDescription(await self.peer.createOffer())
        return self.peer.localDescription.sdp

    async def join(self, media: ConferenceMedia, call_id: str) -> None:
        answer = await media.join(call_id, self.name, await self.offer())
        await self.peer.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    def stop_listening(self) -> None:
        if self._recorder is not None:
            self._recorder.cancel()

    async def listen_for(self, seconds: float) -> npt.NDArray[np.int16]:
        """The next ``seconds`` of audio this client hears. Waits for the audio, not the clock,
        so a busy machine slows the test down instead of failing it; a stalled mixer sends
        nothing, and the wait gives up after a generous bound."""
        wanted = int(seconds * SAMPLE_RATE)
        start = len(self.heard)
        async with asyncio.timeout(10 * seconds + 5):
            while sum(len(f) for f in self.heard[start:]) < wanted:
                self.more.clear()
                await self.more.wait()
        return np.concatenate(self.heard[start:])[:wanted]


def tone_amplitude(samples: npt.NDArray[np.int16], hz: float) -> float:
    """The amplitude of the ``hz`` sine in ``samples``: the median over 85 ms Hann-windowed
    FFT segments, so that a frame lost here and there (a busy test machine) cannot smear it."""
    size = 4096
    window = np.hanning(size)
    freqs = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
    near = np.abs(freqs - hz) <= 15.0
    found = [
        2 * np.abs(np.fft.rfft(samples[start : start + size] * window))[near].max() / window.sum()
        for start in range(0, len(samples) - size + 1, size // 2)
    ]
    return float(np.median(found)) if found else 0.0


def tones_in(samples: npt.NDArray[np.int16]) -> dict[str, float]:
    return {name: tone_amplitude(samples, hz) for name, hz in TONES.items()}


def assert_hears(samples: npt.NDArray[np.int16], present: set[str], who: str) -> None:
    found = tones_in(samples)
    for name in TONES:
        if name in present:
            assert found[name] > HEARD, f"{who} should hear {name}: {found}"
        else:
            assert found[name] < ABSENT, f"{who} should not hear {name}: {found}"


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (a connection state, a callback); fail after a generous bound."""
    async with asyncio.timeout(15):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


@pytest.fixture
async def gone() -> list[tuple[str, str]]:
    return []


@pytest.fixture
async def spoken() -> list[frozenset[str]]:
    return []


@pytest.fixture
async def media(
    gone: list[tuple[str, str]], spoken: list[frozenset[str]]
) -> AsyncIterator[ConferenceMedia]:
    async def on_speaking(call_id: str, user_ids: frozenset[str]) -> None:
        spoken.append(user_ids)

    async def on_gone(call_id: str, user_id: str) -> None:
        gone.append((call_id, user_id))

    conference = ConferenceMedia(load_settings({}), on_speaking, on_gone)
    yield conference
    await conference.close()


@pytest.fixture
async def clients(media: ConferenceMedia) -> AsyncIterator[dict[str, Client]]:
    people = {name: Client(name) for name in TONES}
    for client in people.values():
        await client.join(media, "call-1")
    yield people
    for client in people.values():
        client.stop_listening()
        await client.peer.close()


async def test_each_hears_the_others_and_not_itself_and_mute_drops_out(
    media: ConferenceMedia, clients: dict[str, Client], spoken: list[frozenset[str]]
) -> None:
    assert media.participants("call-1") == frozenset(TONES)
    await asyncio.sleep(1.0)  # ICE, DTLS and the first Opus packets
    heard = await asyncio.gather(*(c.listen_for(1.0) for c in clients.values()))
    for name, samples in zip(clients, heard, strict=True):
        assert_hears(samples, set(TONES) - {name}, name)

    await until(lambda: media.speaking("call-1") == frozenset(TONES))
    assert frozenset(TONES) in spoken  # the speaking set went out through on_speaking

    media.set_muted("call-1", "cat", True)
    await asyncio.sleep(0.3)
    heard = await asyncio.gather(*(c.listen_for(1.0) for c in clients.values()))
    expected = {"ann": {"bob"}, "bob": {"ann"}, "cat": {"ann", "bob"}}
    for name, samples in zip(clients, heard, strict=True):
        assert_hears(samples, expected[name], name)
    await until(lambda: bool(spoken) and spoken[-1] == frozenset({"ann", "bob"}))

    media.set_muted("call-1", "cat", False)
    await asyncio.sleep(0.3)
    assert_hears(await clients["ann"].listen_for(1.0), {"bob", "cat"}, "ann after unmute")


async def test_leave_and_a_stalled_listener_do_not_disturb_the_others(
    media: ConferenceMedia, clients: dict[str, Client]
) -> None:
    await asyncio.sleep(1.0)
    clients["cat"].stop_listening()  # cat's side stops reading what it is sent
    heard = await asyncio.gather(clients["ann"].listen_for(1.0), clients["bob"].listen_for(1.0))
    assert_hears(heard[0], {"bob", "cat"}, "ann")
    assert_hears(heard[1], {"ann", "cat"}, "bob")

    await media.leave("call-1", "bob")
    await media.leave("call-1", "bob")  # idempotent
    assert media.participants("call-1") == frozenset({"ann", "cat"})
    await asyncio.sleep(0.3)
    assert_hears(await clients["ann"].listen_for(1.0), {"cat"}, "ann after bob left")


async def test_a_vanished_peer_is_reported_gone_and_a_rejoin_replaces_the_old_peer(
    media: ConferenceMedia, clients: dict[str, Client], gone: list[tuple[str, str]]
) -> None:
    await asyncio.sleep(1.0)
    await clients["cat"].peer.close()
    await until(lambda: bool(gone))
    assert gone == [("call-1", "cat")]
    assert media.participants("call-1") == frozenset({"ann", "bob"})

    again = Client("bob")
    await again.join(media, "call-1")
    await asyncio.sleep(1.0)
    assert_hears(await again.listen_for(1.0), {"ann"}, "bob rejoined")
    assert gone == [("call-1", "cat")]  # the replaced peer is not "gone"
    again.stop_listening()
    await again.peer.close()


async def test_end_closes_every_peer_of_the_call(
    media: ConferenceMedia, clients: dict[str, Client]
) -> None:
    await until(lambda: all(c.peer.connectionState == "connected" for c in clients.values()))
    await media.end("call-1")
    assert media.participants("call-1") == frozenset()
    await until(lambda: all(c.peer.connectionState == "closed" for c in clients.values()))


@pytest.mark.parametrize(
    "offer",
    [
        "",
        "not sdp at all",
        "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n",
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
        "v=0\r\n" + "a=x\r\n" * 20_000 + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
    ],
)
async def test_an_unusable_offer_is_refused_and_leaves_nothing_behind(
    media: ConferenceMedia, offer: str
) -> None:
    with pytest.raises(OfferRejected):
        await media.join("call-2", "ann", offer)
    assert media.participants("call-2") == frozenset()
