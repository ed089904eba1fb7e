"""Audio in and out of the mixer's shape: decoded frames → 20 ms mono int16, and back to Opus."""

from __future__ import annotations

from fractions import Fraction
from typing import cast

import av
import numpy as np
from av import CodecContext

from knock.features.calls.mixer import FRAME_SAMPLES, SAMPLE_RATE, Samples

# Mono voice: 48 kbit/s is transparent for speech at 48 kHz (aiortc's own encoder would
# upmix to stereo at 96 kbit/s, for twice the CPU and bandwidth and nothing to hear).
OPUS_BITRATE = 48_000
TIME_BASE = Fraction(1, SAMPLE_RATE)


class InputConverter:
    """aiortc's decoded frames (48 kHz stereo s16 from Opus) → 960-sample mono int16 arrays."""

    def __init__(self) -> None:
        self._resampler: av.AudioResampler | None = None

    def convert(self, frame: av.AudioFrame) -> list[Samples]:
        if (
            frame.format.name == "s16"
            and frame.sample_rate == SAMPLE_RATE
            and frame.samples == FRAME_SAMPLES
            and frame.layout.nb_channels <= 2
        ):
            # Opus's own shape: average the interleaved channels without a resampler.
            interleaved = frame.to_ndarray().reshape(FRAME_SAMPLES, -1).astype(np.int32)
            return [(interleaved.sum(axis=1) // interleaved.shape[1]).astype(np.int16)]
        if self._resampler is None:
            self._resampler = av.AudioResampler(
                format="s16", layout="mono", rate=SAMPLE_RATE, frame_size=FRAME_SAMPLES
            )
        return [
            cast(Samples, out.to_ndarray().reshape(-1)) for out in self._resampler.resample(frame)
        ]


def audio_frame(samples: Samples, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


class OpusStream:
    """One Opus encoder: 20 ms of mono audio in, one packet out (libopus has no backlog at
    this frame size, so every frame comes straight back as its packet)."""

    def __init__(self) -> None:
        self._codec = CodecContext.create("libopus", "w")
        self._codec.bit_rate = OPUS_BITRATE
        self._codec.format = "s16"
        self._codec.layout = "mono"
        self._codec.sample_rate = SAMPLE_RATE
        self._codec.time_base = TIME_BASE
        self._codec.options = {"application": "voip"}
        self._pts = 0

    def encode(self, samples: Samples) -> bytes | None:
        packets = self._codec.encode(audio_frame(samples, self._pts))
        self._pts += FRAME_SAMPLES
        return bytes(packets[0]) if packets else None
