"""A real WebRTC voice client for the tests: an aiortc peer that sends a steady tone and
records what it hears, talking to Knock over its HTTP API like a browser would."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import time
from typing import Any

import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from knock.features.calls.ice import HostPolicy
from knock.features.calls.rtc import host_policy
from knock.testing import Member, expect

RATE = 48_000
FRAME = 960  # 20 ms


class ToneTrack(MediaStreamTrack):
    """A microphone that hums one sine tone (``hz``), or silence at 0 Hz, in real time."""

    kind = "audio"

    def __init__(self, hz: float, amplitude: float = 8000.0) -> None:
        super().__init__()
        self.hz = hz
        self.amplitude = amplitude
        self._sent = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            await asyncio.sleep(max(0.0, self._start + self._sent / RATE - time.monotonic()))
        t = (np.arange(FRAME) + self._sent) / RATE
        samples = (self.amplitude * np.sin(2 * math.pi * self.hz * t)).astype(np.int16)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, RATE)
        self._sent += FRAME
        return frame


class VoiceClient:
    """One person's device in a call."""

    def __init__(self, member: Member, hz: float) -> None:
        self.member = member
        self.tone = ToneTrack(hz)
        self.pc = RTCPeerConnection()
        self.pc.addTrack(self.tone)
        self.heard: list[np.ndarray[Any, np.dtype[np.int16]]] = []
        self._readers: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)
        self._connected = asyncio.Event()
        self.pc.on("connectionstatechange", self._on_state)

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected":
            self._connected.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.create_task(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                mono = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0]
                self.heard.append(mono.astype(np.int16))
                del self.heard[:-250]  # the last 5 seconds are plenty

    async def offer(self) -> str:
        """The SDP offer with every candidate in it (aiortc gathers before answering), on
        loopback: the tests never leave the machine."""
        with host_policy(HostPolicy(("127.0.0.1",))):
            await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def join(self, call_id: str) -> dict[str, Any]:
        """POST the offer, apply the answer; the join answer's JSON."""
        answer: dict[str, Any] = expect(
            await self.member.post(f"/calls/{call_id}/join", {"sdp": await self.offer()}), 200
        )
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return answer

    async def connected(self, timeout_s: float = 20.0) -> None:
        async with asyncio.timeout(timeout_s):
            await self._connected.wait()

    def level_at(self, hz: float, seconds: float = 1.0) -> float:
        """How strongly the last ``seconds`` of what this client heard contain ``hz``
        (amplitude of that FFT bin, normalized)."""
        frames = self.heard[-int(seconds * RATE / FRAME) :]
        if not frames:
            return 0.0
        signal = np.concatenate(frames).astype(np.float64)
        spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)))) / len(signal)
        freqs = np.fft.rfftfreq(len(signal), 1 / RATE)
        band = (freqs > hz - 15) & (freqs < hz + 15)
        return float(spectrum[band].max())

    async def close(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def offer_sdp() -> str:
    """A real SDP offer from a device that then goes away (for requests that need one)."""
    pc = RTCPeerConnection()
    pc.addTrack(ToneTrack(0))
    try:
        with host_policy(HostPolicy(("127.0.0.1",))):
            await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)
    finally:
        await pc.close()
