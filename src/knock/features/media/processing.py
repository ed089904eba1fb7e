"""Deciding what an upload is from its bytes, and making the copy Knock keeps.

Nothing here trusts a file name or a Content-Type header. The first bytes say what the file
claims to be; a real decode proves it. Images are bounded by their header's dimensions
before a single pixel is decoded, then re-encoded with the EXIF orientation applied and
every piece of metadata (EXIF, GPS, XMP, comments) left behind. Audio is demuxed and fully
decoded (which measures its duration and its waveform) and remuxed without metadata.
These functions block: callers run them in a worker thread.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from knock.core.errors import InvalidInput, KnockError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# Pillow refuses (DecompressionBombError) at twice this and warns above it; the warning is
# made an error so nothing between our own limit and Pillow's is ever decoded.
PILLOW_MAX_PIXELS = 50_000_000

THUMB_SIZE = 320
WAVEFORM_PEAKS = 64
MAX_FRAMES = 500
SNIFF_BYTES = 64


class UnsupportedMedia(KnockError):
    status = 415
    code = "unsupported_media_type"
    default_message = (
        "Only JPEG, PNG, WebP and GIF images and Opus (WebM, Ogg), AAC (MP4) and WAV audio "
        "are accepted; the file's content is none of them."
    )


class FileTooLarge(KnockError):
    status = 413
    code = "file_too_large"
    default_message = "The file is too large."


@dataclass(frozen=True)
class Limits:
    image_bytes: int
    image_pixels: int
    audio_bytes: int
    audio_s: int


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "image" | "audio"
    format: str  # Pillow format name, or PyAV demuxer name


@dataclass(frozen=True)
class Processed:
    kind: str
    mime: str
    path: Path
    size: int
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    waveform: bytes | None = None
    thumb_path: Path | None = None
    thumb_size: int | None = None
    thumb_mime: str | None = None


_IMAGE_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# Demuxer → (accepted codecs, mime of what we store, muxer to remux with).
_AUDIO = {
    "ogg": ({"opus"}, "audio/ogg", "ogg"),
    "matroska": ({"opus"}, "audio/webm", "webm"),
    "mp4": ({"aac"}, "audio/mp4", "mp4"),
    "wav": ({"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8"}, "audio/wav", "wav"),
}
_MP4_BRANDS = {b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"dash", b"3gp4", b"3gp5"}


def sniff(head: bytes) -> Sniffed:
    """What the first bytes say the file is; UnsupportedMedia for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "PNG")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed("image", "GIF")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "WEBP")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio", "wav")
    if head.startswith(b"OggS"):
        return Sniffed("audio", "ogg")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("audio", "matroska")
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        return Sniffed("audio", "mp4")
    raise UnsupportedMedia()


def max_bytes(kind: str, limits: Limits) -> int:
    return limits.image_bytes if kind == "image" else limits.audio_bytes


def process(source: Path, work_dir: Path, limits: Limits) -> Processed:
    """Check and convert an uploaded file; the results are new files in ``work_dir`` (the
    caller deletes them and ``source``)."""
    with source.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    sniffed = sniff(head)
    size = source.stat().st_size
    if size > max_bytes(sniffed.kind, limits):
        raise FileTooLarge(
            f"A file of this kind may be at most {max_bytes(sniffed.kind, limits)} bytes."
        )
    if sniffed.kind == "image":
        return _process_image(source, work_dir, sniffed.format, limits)
    return _process_audio(source, work_dir, sniffed.format, limits)


def _pillow() -> ModuleType:
    """Pillow's Image, imported at the first upload rather than at start-up (Pillow and
    PyAV cost a noticeable part of a restart), with its bomb limit in force."""
    from PIL import Image

    if Image.MAX_IMAGE_PIXELS != PILLOW_MAX_PIXELS:
        Image.MAX_IMAGE_PIXELS = PILLOW_MAX_PIXELS
        warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
    return Image


def _refuse_image(detail: str) -> InvalidInput:
    return InvalidInput(f"file: not a valid image ({detail}).", code="invalid_media")


def _process_image(source: Path, work_dir: Path, fmt: str, limits: Limits) -> Processed:
    from PIL import ImageOps

    Image = _pillow()
    out_path = work_dir / (source.name + ".out")
    thumb_path = work_dir / (source.name + ".thumb")
    try:
        with Image.open(source, formats=[fmt]) as image:
            # Image.open reads only the header: refuse huge canvases before decoding.
            width, height = image.size
            if width < 1 or height < 1 or width * height > limits.image_pixels:
                raise InvalidInput(
                    f"file: an image may have at most {limits.image_pixels} pixels.",
                    code="image_too_large",
                )
            frames = _decoded_frames(image, limits)
            first = ImageOps.exif_transpose(frames[0])
            if len(frames) > 1:
                rest = [ImageOps.exif_transpose(f) for f in frames[1:]]
                first.save(
                    out_path,
                    format=fmt,
                    save_all=True,
                    append_images=rest,
                    loop=image.info.get("loop", 0),
                    duration=image.info.get("duration", 100),
                )
            else:
                _save_still(first, out_path, fmt)
            width, height = first.size
            thumb = first.convert("RGBA" if _has_alpha(first) else "RGB")
            thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
            thumb.save(thumb_path, format="WEBP", quality=80)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(
            f"file: an image may have at most {limits.image_pixels} pixels.",
            code="image_too_large",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _refuse_image(type(exc).__name__) from None
    return Processed(
        kind="image",
        mime=_IMAGE_MIME[fmt],
        path=out_path,
        size=out_path.stat().st_size,
        width=width,
        height=height,
        thumb_path=thumb_path,
        thumb_size=thumb_path.stat().st_size,
        thumb_mime="image/webp",
    )


def _decoded_frames(image: Image.Image, limits: Limits) -> list[Image.Image]:
    """Every frame, decoded, while the frames' pixels together stay within the limit: a
    GIF of a small file can declare thousands of full-canvas frames."""
    from PIL import ImageSequence

    frames: list[Image.Image] = []
    budget = limits.image_pixels
    for frame in ImageSequence.Iterator(image):
        budget -= frame.size[0] * frame.size[1]
        if budget < 0 or len(frames) >= MAX_FRAMES:
            raise InvalidInput(
                f"file: an animation may have at most {limits.image_pixels} pixels over all "
                f"its frames and at most {MAX_FRAMES} frames.",
                code="image_too_large",
            )
        frame.load()
        frames.append(frame.copy())
    return frames


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _save_still(image: Image.Image, path: Path, fmt: str) -> None:
    # No exif=, icc_profile=, pnginfo= or comment: the copy carries pixels only.
    if fmt == "JPEG":
        image.convert("RGB").save(path, format="JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        keep = (
            image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGBA")
        )
        keep.save(path, format="PNG", compress_level=6)
    elif fmt == "WEBP":
        image.convert("RGBA" if _has_alpha(image) else "RGB").save(path, format="WEBP", quality=85)
    else:
        image.save(path, format=fmt)


def _refuse_audio(detail: str) -> InvalidInput:
    return InvalidInput(f"file: not a valid recording ({detail}).", code="invalid_media")


def _process_audio(source: Path, work_dir: Path, demuxer: str, limits: Limits) -> Processed:
    import av

    codecs, mime, muxer = _AUDIO[demuxer]
    out_path = work_dir / (source.name + ".out")
    try:
        duration_s, peaks = _decode_audio(source, demuxer, codecs, limits)
        _remux_without_metadata(source, demuxer, out_path, muxer)
    except av.FFmpegError as exc:
        raise _refuse_audio(type(exc).__name__) from None
    return Processed(
        kind="audio",
        mime=mime,
        path=out_path,
        size=out_path.stat().st_size,
        duration_ms=round(duration_s * 1000),
        waveform=_waveform(peaks),
    )


def _decode_audio(
    source: Path, demuxer: str, codecs: set[str], limits: Limits
) -> tuple[float, list[tuple[int, float]]]:
    """Decodes every frame; the duration is what was decoded, not what a header claims."""
    import av

    with av.open(str(source), format=demuxer, mode="r") as container:
        streams = container.streams
        if len(streams.audio) != 1 or len(streams) != 1:
            raise _refuse_audio("exactly one audio stream and nothing else")
        stream = streams.audio[0]
        if stream.codec_context.name not in codecs:
            raise _refuse_audio(f"codec {stream.codec_context.name} in this container")
        samples = 0
        rate = stream.codec_context.sample_rate or 0
        peaks: list[tuple[int, float]] = []  # (sample count, peak) per decoded frame
        for frame in container.decode(stream):
            rate = frame.sample_rate or rate
            data = frame.to_ndarray()
            count = int(frame.samples)
            peaks.append((count, _peak(data)))
            samples += count
            if rate and samples > (limits.audio_s + 0.5) * rate:
                raise InvalidInput(
                    f"file: a recording may be at most {limits.audio_s} seconds.",
                    code="audio_too_long",
                )
        if not rate or samples < rate // 10:
            raise _refuse_audio("shorter than 0.1 s")
    return samples / rate, peaks


def _peak(data: np.ndarray) -> float:
    """Peak amplitude of a frame as a fraction of full scale, whatever the sample format."""
    import numpy as np

    if data.size == 0:
        return 0.0
    if np.issubdtype(data.dtype, np.integer):
        info = np.iinfo(data.dtype)
        centered = data.astype(np.float64) - (0 if info.min < 0 else (info.max + 1) / 2)
        scale = float(max(abs(info.min), info.max))
        return float(np.max(np.abs(centered))) / scale
    return float(min(1.0, np.max(np.abs(data))))


def _waveform(peaks: list[tuple[int, float]]) -> bytes:
    """WAVEFORM_PEAKS buckets of equal duration, each the loudest peak in it, 0-255."""
    total = sum(count for count, _ in peaks)
    buckets = [0.0] * WAVEFORM_PEAKS
    position = 0
    for count, peak in peaks:
        # A long frame (WAV decodes in large blocks) spans several buckets.
        first = min(WAVEFORM_PEAKS - 1, position * WAVEFORM_PEAKS // max(total, 1))
        last = min(WAVEFORM_PEAKS - 1, (position + count - 1) * WAVEFORM_PEAKS // max(total, 1))
        for index in range(first, last + 1):
            buckets[index] = max(buckets[index], peak)
        position += count
    return bytes(min(255, round(b * 255)) for b in buckets)


def _remux_without_metadata(source: Path, demuxer: str, target: Path, muxer: str) -> None:
    """The same packets in a fresh container: tags (titles, locations, software) stay
    behind, and so does anything appended after the stream."""
    import av

    with av.open(str(source), format=demuxer, mode="r") as inp:
        in_stream = inp.streams.audio[0]
        with av.open(str(target), format=muxer, mode="w") as out:
            out_stream = out.add_stream_from_template(in_stream)
            out_stream.metadata.clear()
            for packet in inp.demux(in_stream):
                if packet.dts is None:
                    continue
                packet.stream = out_stream
                out.mux(packet)
