"""The mixer's arithmetic on arrays, and one conference tick with participants but no network."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from knock.features.calls.media import (
    JITTER_FRAMES,
    JITTER_TARGET,
    OUTGOING_FRAMES,
    Conference,
    Participant,
    TickMix,
)
from knock.features.calls.mixer import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    SPEAK_OFF_FRAMES,
    SPEAK_ON_FRAMES,
    SpeakingGate,
    levels,
    mix_minus,
)
from knock.features.calls.opus import InputConverter, OpusStream
from knock.features.calls.sdp import ask_for_dtx


def constant(value: int) -> npt.NDArray[np.int16]:
    return np.full(FRAME_SAMPLES, value, dtype=np.int16)


def test_each_speaker_hears_the_others_and_a_listener_hears_all() -> None:
    mix = mix_minus(np.stack([constant(100), constant(20), constant(3)]))
    assert (mix.listener == 123).all()
    assert [int(row[0]) for row in mix.speakers] == [23, 103, 120]
    assert mix.speakers.dtype == np.int16


def test_one_speaker_hears_silence() -> None:
    mix = mix_minus(constant(1000)[np.newaxis, :])
    assert (mix.speakers == 0).all()
    assert (mix.listener == 1000).all()


def test_nobody_speaking_is_silence_without_mixing() -> None:
    mix = mix_minus(np.empty((0, FRAME_SAMPLES), np.int16))
    assert mix.speakers.shape == (0, FRAME_SAMPLES)
    assert (mix.listener == 0).all()


def test_loud_voices_together_clip_instead_of_wrapping_around() -> None:
    mix = mix_minus(np.stack([constant(30_000), constant(30_000), constant(-32_768)]))
    # 30000 + 30000 = 60000 would wrap to -5536 in int16; it clips to the loudest sample.
    assert (mix.speakers[2] == 32_767).all()
    assert (mix.speakers[0] == -2_768).all()
    assert (mix.listener == 27_232).all()
    loud = mix_minus(np.stack([constant(-30_000)] * 3))
    assert (loud.listener == -32_768).all()


def test_a_frame_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        mix_minus(np.zeros((2, 480), np.int16))


@given(arrays(np.int16, st.tuples(st.integers(1, 6), st.just(FRAME_SAMPLES))))
def test_mix_minus_is_the_clipped_sum_of_the_others(inputs: npt.NDArray[np.int16]) -> None:
    mix = mix_minus(inputs)
    wide = inputs.astype(np.int64)
    for k in range(len(inputs)):
        expected = np.clip(wide.sum(axis=0) - wide[k], -32_768, 32_767)
        assert (mix.speakers[k] == expected).all()
    assert (mix.listener == np.clip(wide.sum(axis=0), -32_768, 32_767)).all()


def test_levels_are_the_rms_of_each_frame() -> None:
    sine = (1000 * np.sin(np.arange(FRAME_SAMPLES) * 2 * np.pi / 48)).astype(np.int16)
    found = levels(np.stack([constant(0), constant(-300), sine]))
    assert found[0] == 0
    assert found[1] == pytest.approx(300)
    assert found[2] == pytest.approx(1000 / np.sqrt(2), rel=0.01)


def test_speaking_has_hysteresis() -> None:
    gate = SpeakingGate()
    assert not gate.update(5000)  # one loud frame (a click) is not speech
    assert not gate.update(0)
    assert [gate.update(5000) for _ in range(SPEAK_ON_FRAMES)][-1]
    # A pause shorter than the hangover keeps the speaker speaking.
    assert all(gate.update(0) for _ in range(SPEAK_OFF_FRAMES - 1))
    assert gate.update(5000)
    assert [gate.update(0) for _ in range(SPEAK_OFF_FRAMES)][-1] is False


def test_opus_stereo_frames_become_mono_and_other_rates_are_resampled() -> None:
    stereo = np.stack([np.full(FRAME_SAMPLES, 100), np.full(FRAME_SAMPLES, 300)], axis=1)
    frame = av.AudioFrame.from_ndarray(
        stereo.astype(np.int16).reshape(1, -1), format="s16", layout="stereo"
    )
    frame.sample_rate = SAMPLE_RATE
    [mono] = InputConverter().convert(frame)
    assert mono.dtype == np.int16 and mono.shape == (FRAME_SAMPLES,)
    assert (mono == 200).all()

    converter = InputConverter()
    out: list[npt.NDArray[np.int16]] = []
    for n in range(10):  # ten 10 ms frames at 16 kHz
        slow = av.AudioFrame.from_ndarray(
            np.full((1, 160), 1000, np.int16), format="s16", layout="mono"
        )
        slow.sample_rate = 16_000
        slow.pts = n * 160
        slow.time_base = Fraction(1, 16_000)
        out += converter.convert(slow)
    assert all(chunk.shape == (FRAME_SAMPLES,) for chunk in out)
    assert len(out) >= 4  # 100 ms in, in 20 ms frames (the resampler keeps a little back)
    assert abs(int(out[-1][FRAME_SAMPLES // 2]) - 1000) < 50


def heard(mix: TickMix) -> dict[str, int]:
    """The first sample of what each participant is to hear this tick."""
    found = {p.user_id: int(mix.listener_mix[0]) for p in mix.listeners}
    for person, samples in zip(mix.talkers, mix.talker_mixes, strict=True):
        found[person.user_id] = int(samples[0])
    return found


async def test_a_tick_gives_everyone_the_mix_minus_and_skips_the_muted_and_silent() -> None:
    conference = Conference("call")
    ann, bob, cat, dan = (Participant(name) for name in ("ann", "bob", "cat", "dan"))
    for person in (ann, bob, cat, dan):
        conference.people[person.user_id] = person
    ann.inbox.append(constant(1000))
    bob.inbox.append(constant(500))
    cat.inbox.append(constant(7))  # below the silence floor: left out of every mix
    dan.inbox.append(constant(3000))
    dan.muted = True
    mix = conference.mix()
    assert heard(mix) == {"ann": 500, "bob": 1000, "cat": 1500, "dan": 1500}
    assert not dan.inbox  # a muted person's input is consumed, not left to pile up
    # The two who heard the same mix share one packet; each talker has their own.
    packets = conference.encode(mix)
    assert sorted(sorted(p.user_id for p in people) for people, _ in packets) == [
        ["ann"],
        ["bob"],
        ["cat", "dan"],
    ]
    conference.deliver(packets)
    assert [p.outgoing.waiting() for p in (ann, bob, cat, dan)] == [1, 1, 1, 1]

    mix = conference.mix()  # nobody sent anything: everyone gets silence, one shared encode
    assert heard(mix) == {"ann": 0, "bob": 0, "cat": 0, "dan": 0}
    assert not mix.talkers and not mix.listener_mix.any()
    await conference.stop()


def test_an_opus_stream_gives_one_packet_per_frame_that_decodes_to_the_input() -> None:
    stream = OpusStream()
    t = np.arange(20 * FRAME_SAMPLES) / SAMPLE_RATE
    tone = (8000 * np.sin(2 * np.pi * 600 * t)).astype(np.int16)
    decoder = av.CodecContext.create("libopus", "r")
    decoded = []
    for n in range(20):
        packet = stream.encode(tone[n * FRAME_SAMPLES : (n + 1) * FRAME_SAMPLES])
        assert packet is not None and 10 < len(packet) < 400
        for frame in decoder.decode(av.Packet(packet)):
            decoded.append(frame.to_ndarray().reshape(-1))
    out = np.concatenate(decoded)[-8 * FRAME_SAMPLES :].astype(np.float64)
    assert np.sqrt(np.mean(out**2)) == pytest.approx(8000 / np.sqrt(2), rel=0.1)


async def test_speaking_is_reported_when_it_changes_at_most_four_times_a_second() -> None:
    reports: list[frozenset[str]] = []

    async def on_speaking(call_id: str, user_ids: frozenset[str]) -> None:
        reports.append(user_ids)

    conference = Conference("call", on_speaking)
    ann = conference.people["ann"] = Participant("ann")
    conference.people["bob"] = Participant("bob")
    clock = 100.0
    for _ in range(SPEAK_ON_FRAMES):
        ann.inbox.append(constant(5000))
        conference.tick()
        conference._report_speaking(clock)
        clock += 0.02
    await asyncio.sleep(0)
    assert conference.speaking == frozenset({"ann"})
    assert reports == [frozenset({"ann"})]

    for _ in range(SPEAK_OFF_FRAMES):  # ann stops; the change comes within the debounce
        conference.tick()
        conference._report_speaking(clock)
        clock += 0.02
    await asyncio.sleep(0)
    assert reports == [frozenset({"ann"}), frozenset()]

    ann.inbox.append(constant(5000))
    ann.inbox.append(constant(5000))
    conference.tick()
    conference.tick()
    conference._report_speaking(clock)  # just after the last report: held back
    await asyncio.sleep(0)
    assert len(reports) == 2
    conference._report_speaking(clock + 0.25)
    await asyncio.sleep(0)
    assert reports[-1] == frozenset({"ann"})
    await conference.stop()


async def test_a_peer_that_never_reads_holds_only_the_newest_few_packets() -> None:
    conference = Conference("call")
    ann = conference.people["ann"] = Participant("ann")
    for n in range(50):
        ann.inbox.append(constant(n + 100))
        conference.tick()
    assert ann.outgoing.waiting() == OUTGOING_FRAMES
    packet = await ann.outgoing.recv()
    # The oldest waiting packet, stamped with its place in time: the gap before it is kept.
    assert packet.pts == (50 - OUTGOING_FRAMES) * FRAME_SAMPLES
    await conference.stop()


def test_a_burst_is_bounded_and_a_standing_backlog_drains() -> None:
    ann = Participant("ann")
    for n in range(10):
        ann.inbox.append(constant(n))
    assert len(ann.inbox) == JITTER_FRAMES  # the oldest went
    for _ in range(4 * 25):  # a steady sender from now on: one frame in per tick
        assert ann.next_frame() is not None
        ann.inbox.append(constant(0))
    # The standing queue was trimmed back to the target instead of staying at its full depth.
    assert len(ann.inbox) <= JITTER_TARGET + 1


def test_the_answer_asks_the_client_for_dtx_once_per_opus_payload() -> None:
    browser_like = "\r\n".join(
        [
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
            "a=rtpmap:111 opus/48000/2",
            "a=fmtp:111 minptime=10;useinbandfec=1",
            "a=rtpmap:0 PCMU/8000",
            "",
        ]
    )
    answer = ask_for_dtx(browser_like)
    assert "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n" in answer
    assert ask_for_dtx(answer) == answer
    bare = ask_for_dtx("a=rtpmap:96 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n")
    assert bare == "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 usedtx=1\r\na=rtpmap:0 PCMU/8000\r\n"
