"""The arithmetic of a voice conference: mix-minus over numpy arrays, input levels, speaking.

Everything here works on 20 ms frames of 48 kHz mono signed 16-bit audio (960 samples), the
unit Opus carries in a WebRTC call. No I/O and no asyncio: :mod:`knock.features.calls.media`
calls these once per tick per call, and the benchmark calls them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE

Samples = npt.NDArray[np.int16]

# An input quieter than this (RMS, in int16 units: about -64 dBFS) is treated as silence and
# left out of the sum: it would add nothing audible, and leaving it out is what makes a silent
# participant cost nothing in the mix.
SILENCE_RMS = 20.0
# Speaking detection with hysteresis: a participant starts speaking after SPEAK_ON_FRAMES
# frames above SPEAK_ON_RMS (about -38 dBFS) and stops after SPEAK_OFF_FRAMES frames (300 ms)
# below SPEAK_OFF_RMS, so short pauses between words do not flicker the indicator.
SPEAK_ON_RMS = 400.0
SPEAK_OFF_RMS = 200.0
SPEAK_ON_FRAMES = 2
SPEAK_OFF_FRAMES = 15

_INT16_MIN = np.iinfo(np.int16).min
_INT16_MAX = np.iinfo(np.int16).max

SILENT_FRAME: Samples = np.zeros(FRAME_SAMPLES, dtype=np.int16)
SILENT_FRAME.setflags(write=False)


@dataclass(frozen=True)
class Mix:
    """One tick's output. ``listener`` is what everyone who did not contribute hears (the sum
    of all inputs); row k of ``speakers`` is what contributor k hears: the sum minus itself."""

    listener: Samples
    speakers: npt.NDArray[np.int16]


def mix_minus(inputs: npt.NDArray[np.int16]) -> Mix:
    """Mix K contributing inputs, shape (K, 960), in one vectorized pass.

    The sum is taken in int32 (no wrap-around for any K below 65,536) and the outputs are
    clipped to int16: a hard clip only where several loud voices overlap, instead of the harsh
    wrap-around noise of an int16 overflow.
    """
    if inputs.ndim != 2 or inputs.shape[1] != FRAME_SAMPLES:
        raise ValueError(f"inputs must have shape (K, {FRAME_SAMPLES}), not {inputs.shape}")
    if inputs.shape[0] == 0:
        return Mix(listener=SILENT_FRAME, speakers=np.empty((0, FRAME_SAMPLES), np.int16))
    wide = inputs.astype(np.int32)
    total = wide.sum(axis=0)
    others = total[np.newaxis, :] - wide
    return Mix(listener=_clip(total), speakers=_clip(others))


def _clip(samples: npt.NDArray[np.int32]) -> npt.NDArray[np.int16]:
    return np.clip(samples, _INT16_MIN, _INT16_MAX).astype(np.int16)


def levels(frames: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """RMS level of each row of (N, 960) frames, in int16 units, in one pass."""
    wide = frames.astype(np.float32)
    result: npt.NDArray[np.float32] = np.sqrt(np.mean(wide * wide, axis=1))
    return result


class SpeakingGate:
    """Whether one participant is speaking, from their per-frame levels (with hysteresis)."""

    __slots__ = ("_run", "speaking")

    def __init__(self) -> None:
        self.speaking = False
        self._run = 0  # consecutive frames pointing the other way

    def update(self, rms: float) -> bool:
        """Feed one frame's level (0 for a missing or muted frame); return whether speaking."""
        if self.speaking:
            self._run = self._run + 1 if rms < SPEAK_OFF_RMS else 0
            if self._run >= SPEAK_OFF_FRAMES:
                self.speaking, self._run = False, 0
        else:
            self._run = self._run + 1 if rms >= SPEAK_ON_RMS else 0
            if self._run >= SPEAK_ON_FRAMES:
                self.speaking, self._run = True, 0
        return self.speaking
