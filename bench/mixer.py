"""``python -m bench.mixer [--quick]``: what one core of the voice-conference mixer holds.

(a) Capacity. For N participants, one 20 ms tick does what production does per tick, minus
the network: decode one Opus packet per participant (aiortc's decoder, one per participant),
turn it into the mixer's input (``Participant.hear``), mix (``Conference.tick``), and encode
one Opus packet per participant (aiortc's encoder, one per participant, as each WebRTC sender
has). The packets are pre-encoded from a speech-like signal. CPU time per tick is measured
with the thread's CPU clock (``time.thread_time``), so other processes on a shared machine
inflate it less than wall time would; the largest N whose p99 tick stays under 20 ms is what
one core mixes in real time. Two mixes: 3 people talking and the rest silent (a meeting), and
everyone talking at once (the worst case).
Baselines in the same run: the same N with the codec work removed (the numpy mix alone), and
one Opus decode + encode alone, so the mixer's own share is a ratio, not a guess.

(b) Added latency. The real mixer task (20 ms monotonic schedule) runs with N participants
whose frames arrive every 20 ms at a random phase, as from a network; each participant's
outgoing track is drained and encoded in the default executor, as aiortc's sender does. For
every frame one talker sends, the time from entering its input queue to the mixed frame
having been encoded for a listener (p50/p99). A frame is recognised by a sequence number
written into its first sample (the other talkers' first sample is zeroed, so the listener's
mix carries the number unchanged).

Writes bench/out/mixer-<time>.json and a markdown summary to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterFrame

from knock.features.calls.media import Conference, Participant
from knock.features.calls.mixer import FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from knock.features.calls.opus import OpusStream

OUT_DIR = Path(__file__).parent / "out"
TICK_BUDGET_S = FRAME_S
TALKERS = 3


def speech_like(seed: int, seconds: float = 2.0) -> npt.NDArray[np.int16]:
    """A voiced signal with syllables: a few harmonics of a pitch, amplitude-modulated at
    about 4 Hz, with a little noise. Opus codes it like speech (unlike a pure sine)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = 110 + 15 * seed % 120
    voiced = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * (3.5 + seed % 3) * t)
    signal = 5000 * voiced * envelope + rng.normal(0, 200, t.size)
    return np.clip(signal, -32768, 32767).astype(np.int16)


def encode_packets(samples: npt.NDArray[np.int16]) -> list[bytes]:
    encoder = OpusEncoder()
    packets: list[bytes] = []
    for n in range(len(samples) // FRAME_SAMPLES):
        payloads, _ = encoder.encode(
            as_frame(samples[n * FRAME_SAMPLES : (n + 1) * FRAME_SAMPLES], n)
        )
        packets += payloads
    return packets


def as_frame(samples: npt.NDArray[np.int16], n: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = n * FRAME_SAMPLES
    frame.time_base = Fraction(1, SAMPLE_RATE)
    return frame


class StampedParticipant(Participant):
    """The latency run's talker: remembers, per tick, when the frame the mixer took entered."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.entered: dict[int, float] = {}
        self.taken: list[float | None] = []

    def next_frame(self) -> npt.NDArray[np.int16] | None:
        frame = super().next_frame()
        self.taken.append(None if frame is None else self.entered.pop(int(frame[0]), None))
        return frame


class Seat:
    """One participant as the media server holds them: a decoder (aiortc's, as each WebRTC
    receiver has) and a mixer slot; the conference encodes for them."""

    def __init__(self, person: Participant, packets: list[bytes]) -> None:
        self.person = person
        self.packets = packets
        self.decoder = OpusDecoder()
        self.sent = 0

    def receive(self) -> None:
        if not self.packets:  # discontinuous transmission: a silent peer sends nothing
            return
        packet = self.packets[self.sent % len(self.packets)]
        for frame in self.decoder.decode(JitterFrame(data=packet, timestamp=self.sent * 960)):
            assert isinstance(frame, av.AudioFrame)
            self.person.hear(frame)
        self.sent += 1


def seats(n: int, talkers: int, dtx: bool = False) -> tuple[Conference, list[Seat]]:
    silence = [] if dtx else encode_packets(np.zeros(SAMPLE_RATE, np.int16))
    conference = Conference("bench")
    people = []
    for k in range(n):
        packets = encode_packets(speech_like(k)) if k < talkers else silence
        seat = Seat(StampedParticipant(f"p{k}") if k == 0 else Participant(f"p{k}"), packets)
        conference.people[seat.person.user_id] = seat.person
        people.append(seat)
    return conference, people


def tick_times(n: int, talkers: int, ticks: int, mode: str) -> list[float]:
    """CPU seconds of each of ``ticks`` ticks for ``n`` participants. Modes: ``knock`` (as the
    media server does it), ``dtx`` (the same, silent peers sending nothing), ``mix`` (the numpy
    mix alone: inputs already decoded, nothing encoded), ``per-sender`` (the design this
    replaced: every participant's mix encoded by its own aiortc encoder, stereo 96 kbit/s)."""
    conference, people = seats(n, talkers, dtx=mode == "dtx")
    ready = []
    if mode == "mix":
        for seat in people:
            seat.receive()
        ready = [list(seat.person.inbox) for seat in people]
    encoders = [OpusEncoder() for _ in people] if mode == "per-sender" else []
    times = []
    for t in range(ticks + 10):
        start = time.thread_time()
        if mode == "mix":
            for seat, frames in zip(people, ready, strict=True):
                seat.person.inbox.append(frames[t % len(frames)])
            conference.mix()
        elif mode == "per-sender":
            for seat in people:
                seat.receive()
            mix = conference.mix()
            outs = [mix.listener_mix] * len(mix.listeners) + list(mix.talker_mixes)
            for encoder, samples in zip(encoders, outs, strict=True):
                encoder.encode(as_frame(samples, t))
        else:
            for seat in people:
                seat.receive()
            conference.tick()
            for seat in people:
                seat.person.outgoing._packets.clear()
        if t >= 10:  # warm-up: the first codec calls allocate
            times.append(time.thread_time() - start)
    return times


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def capacity(talkers: int | None, ticks: int, sizes: list[int], mode: str) -> dict[str, Any]:
    rows = []
    best = 0
    for n in sizes:
        speaking = n if talkers is None else min(talkers, n)
        times = tick_times(n, speaking, ticks, mode)
        mix_only = tick_times(n, speaking, ticks, "mix")
        row = {
            "participants": n,
            "talking": speaking,
            "tick_p50_ms": 1000 * statistics.median(times),
            "tick_p99_ms": 1000 * quantile(times, 0.99),
            "per_participant_us": 1e6 * statistics.mean(times) / n,
            "mix_only_p50_ms": 1000 * statistics.median(mix_only),
            "mix_share": statistics.mean(mix_only) / statistics.mean(times),
            "core_share": statistics.mean(times) / TICK_BUDGET_S,
        }
        rows.append(row)
        if row["tick_p99_ms"] <= 1000 * TICK_BUDGET_S:
            best = n
        else:
            break
    return {
        "mode": mode,
        "talking": "all" if talkers is None else talkers,
        "rows": rows,
        "max_realtime": best,
    }


def codec_alone(ticks: int) -> dict[str, float]:
    seat = Seat(Participant("solo"), encode_packets(speech_like(1)))
    stream, aiortc_encoder = OpusStream(), OpusEncoder()
    decode, encode, encode_aiortc = [], [], []
    frames = []
    for _ in range(ticks):
        start = time.thread_time()
        seat.receive()
        decode.append(time.thread_time() - start)
        frames.append(seat.person.inbox.popleft())
    for n, samples in enumerate(frames):
        start = time.thread_time()
        stream.encode(samples)
        encode.append(time.thread_time() - start)
        start = time.thread_time()
        aiortc_encoder.encode(as_frame(samples, n))
        encode_aiortc.append(time.thread_time() - start)
    return {
        "decode_us": 1e6 * statistics.median(decode),
        "encode_us": 1e6 * statistics.median(encode),
        "encode_aiortc_us": 1e6 * statistics.median(encode_aiortc),
    }


async def latency(n: int, seconds: float) -> dict[str, Any]:
    """Input queue → packet in a listener's sender, with the real 20 ms mixer task."""
    executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    _, people = seats(n, TALKERS)
    conference = Conference("bench", encoding=executor)
    for seat in people:
        conference.people[seat.person.user_id] = seat.person
    talker, listener = people[0].person, people[-1].person
    assert isinstance(talker, StampedParticipant)
    delays: list[float] = []
    loop = asyncio.get_running_loop()
    frames = int(seconds / FRAME_S)

    # Decoded beforehand: aiortc decodes in a thread per receiver, not on the event loop.
    decoded = []
    for seat in people:
        for _ in range(50):
            seat.receive()
        decoded.append(list(seat.person.inbox))
        seat.person.inbox.clear()

    async def arrive(seat: Seat, inputs: list[npt.NDArray[np.int16]]) -> None:
        await asyncio.sleep(random.uniform(0, FRAME_S))  # a random phase against the mixer
        start = loop.time()
        for k in range(frames):
            await asyncio.sleep(max(0.0, start + k * FRAME_S - loop.time()))
            seat.person.inbox.append(inputs[k % len(inputs)].copy())
            if seat.person is talker:
                talker.inbox[-1][0] = k + 1  # marks the frame; the mix carries it on
                talker.entered[k + 1] = time.perf_counter()

    async def drain(person: Participant) -> None:
        while True:
            packet = await person.outgoing.recv()
            if person is listener:
                tick = int(packet.pts or 0) // FRAME_SAMPLES
                entered = talker.taken[tick] if tick < len(talker.taken) else None
                if entered is not None:
                    delays.append(time.perf_counter() - entered)

    drains = [asyncio.create_task(drain(seat.person)) for seat in people]
    conference.start()
    await asyncio.gather(
        *(arrive(seat, inputs) for seat, inputs in zip(people, decoded, strict=True))
    )
    await asyncio.sleep(0.1)
    for task in drains:
        task.cancel()
    await conference.stop()
    executor.shutdown()
    return {
        "participants": n,
        "frames": len(delays),
        "lost": frames - len(delays),
        "p50_ms": 1000 * statistics.median(delays),
        "p99_ms": 1000 * quantile(delays, 0.99),
        "max_ms": 1000 * max(delays),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"### Voice-conference mixer (`python -m bench.mixer`, {result['date_utc']}, "
        f"commit {result['commit']})",
        "",
        "Capacity: CPU per 20 ms tick (decode every input, mix, encode; no network), one thread. "
        "knock = as the media server does it; dtx = the same with silent peers sending nothing; "
        "per-sender = baseline, every participant's mix encoded by its own aiortc encoder.",
        "",
        "| design | talking | participants | tick p50 ms | tick p99 ms | µs/participant | "
        "mix alone p50 ms | mix share | share of a core |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["capacity"]:
        for row in run["rows"]:
            lines.append(
                f"| {run['mode']} | {run['talking']} | {row['participants']} | "
                f"{row['tick_p50_ms']:.2f} | "
                f"{row['tick_p99_ms']:.2f} | {row['per_participant_us']:.0f} | "
                f"{row['mix_only_p50_ms']:.3f} | {row['mix_share']:.1%} | "
                f"{row['core_share']:.0%} |"
            )
    lines += [""]
    for run in result["capacity"]:
        lines.append(
            f"- {run['mode']}, {run['talking']} talking: **{run['max_realtime']}** participants "
            "in real time on one core (largest N measured whose p99 tick ≤ 20 ms)."
        )
    codec = result["codec_alone"]
    lines += [
        f"- One Opus frame alone: decode {codec['decode_us']:.0f} µs, encode "
        f"{codec['encode_us']:.0f} µs (mono 48 kbit/s; aiortc's stereo 96 kbit/s encoder: "
        f"{codec['encode_aiortc_us']:.0f} µs).",
        "",
        "Added latency (frame into a talker's input queue → mixed frame encoded for a listener, "
        "real 20 ms mixer task):",
        "",
        "| participants | frames | lost | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["latency"]:
        lines.append(
            f"| {row['participants']} | {row['frames']} | {row['lost']} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {row['max_ms']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer ticks and sizes")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--latency-only", action="store_true", help="skip the capacity runs")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    ticks = 100 if args.quick else 400
    sizes = [10, 15, 20, 25, 40, 60, 80, 120]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    result = {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "cpus": sorted(os.sched_getaffinity(0)),
        "capacity": []
        if args.latency_only
        else [
            capacity(TALKERS, ticks, sizes, "knock"),
            capacity(None, ticks, sizes, "knock"),
            capacity(TALKERS, ticks, sizes, "dtx"),
            capacity(TALKERS, ticks, sizes, "per-sender"),
        ],
        "codec_alone": codec_alone(ticks),
        "latency": [asyncio.run(latency(n, 5.0 if args.quick else 15.0)) for n in (3, 25)],
    }
    OUT_DIR.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    (OUT_DIR / f"mixer-{stamp}.json").write_text(json.dumps(result, indent=2))
    sys.stdout.write(markdown(result) + "\n")


if __name__ == "__main__":
    main()
