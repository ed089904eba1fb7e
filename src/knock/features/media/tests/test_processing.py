"""The content checks themselves, without a server: containers, codecs, tags, junk."""

from __future__ import annotations

from pathlib import Path

import pytest

from knock.core.errors import KnockError
from knock.features.media.processing import Limits, Processed, process
from knock.features.media.tests import corpus

LIMITS = Limits(image_bytes=1 << 20, image_pixels=50_000_000, audio_bytes=1 << 20, audio_s=2)


def run(tmp_path: Path, data: bytes) -> Processed:
    source = tmp_path / "upload"
    source.write_bytes(data)
    return process(source, tmp_path, LIMITS)


@pytest.mark.parametrize(
    ("fmt", "codec", "mime"), [("mp4", "aac", "audio/mp4"), ("webm", "libopus", "audio/webm")]
)
def test_aac_in_mp4_and_opus_in_webm_are_accepted_without_their_tags(
    tmp_path: Path, fmt: str, codec: str, mime: str
) -> None:
    data = corpus.encoded(fmt, codec, seconds=1.2, title="CanaryTitle")
    assert b"CanaryTitle" in data
    result = run(tmp_path, data)
    assert result.mime == mime
    assert abs((result.duration_ms or 0) - 1200) < 60
    assert b"CanaryTitle" not in result.path.read_bytes()


@pytest.mark.parametrize(
    "data",
    [
        b"RIFF\x00\x00\x00\x00WAVE" + b"\x01" * 300,
        b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 300,
        b"\x1a\x45\xdf\xa3" + b"\x00" * 300,
        corpus.wav(1.0)[:60],  # a header and a few samples
        b"RIFF\x00\x00\x00\x00WEBP" + b"\x00" * 100,
        b"GIF89a" + b"\xff" * 50,
    ],
)
def test_junk_behind_a_valid_signature_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(KnockError) as refused:
        run(tmp_path, data)
    assert (refused.value.status, refused.value.code) == (422, "invalid_media")


def test_recordings_over_the_length_limit_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KnockError) as refused:
        run(tmp_path, corpus.wav(3.0))
    assert refused.value.code == "audio_too_long"
