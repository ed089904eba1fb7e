"""Upload test files, made on the spot (no binary fixtures)."""

from __future__ import annotations

import io
import struct
import tempfile
import wave
import zlib
from pathlib import Path

import av
import numpy as np
from PIL import Image

CANARY_PIXEL = (13, 37, 211)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png_header(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG whose IHDR claims 900 megapixels, with a tiny IDAT: refused before decoding."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def gif_huge_screen() -> bytes:
    """A 1x1 GIF frame on a 30,000 x 30,000 logical screen: a few dozen bytes."""
    image = io.BytesIO()
    Image.new("P", (1, 1)).save(image, format="GIF")
    data = bytearray(image.getvalue())
    data[6:10] = struct.pack("<HH", 30_000, 30_000)
    return bytes(data)


def gif_many_frames(frames: int = 600) -> bytes:
    """A small GIF with far more frames than allowed."""
    images = [Image.new("RGB", (16, 16), (i % 256, (i * 7) % 256, i // 256)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=20)
    return out.getvalue()


def jpeg_with_gps(
    size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 20, 20)
) -> bytes:
    """A JPEG with EXIF orientation 6 (rotate 90°) and a GPS position."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "CanaryCam"
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30), color: tuple[int, int, int] = CANARY_PIXEL) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def jpeg_segments(data: bytes) -> list[bytes]:
    """The marker of every segment before the scan (FFE1 = APP1, where EXIF lives)."""
    assert data[:2] == b"\xff\xd8"
    markers, i = [], 2
    while i < len(data) and data[i] == 0xFF:
        marker = data[i : i + 2]
        markers.append(marker)
        if marker == b"\xff\xda":
            break
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    return markers


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 4


def wav(seconds: float = 2.0, rate: int = 16_000) -> bytes:
    t = np.linspace(0, seconds, int(seconds * rate), endpoint=False)
    samples = (np.sin(2 * np.pi * 440 * t) * 0.5 * 32767).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(samples.tobytes())
    return out.getvalue()


def encoded(fmt: str, codec: str, seconds: float = 1.2, title: str = "") -> bytes:
    """A sine tone encoded with PyAV (e.g. ("mp4", "aac"), ("webm", "libopus"))."""
    rate = 48_000
    signal = (np.sin(2 * np.pi * 300 * np.arange(int(seconds * rate)) / rate) * 0.3).astype(
        np.float32
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"voice.{fmt}"
        with av.open(str(path), "w", format=fmt) as out:
            stream = out.add_stream(codec, rate=rate)
            stream.layout = "mono"
            if title:
                out.metadata["title"] = title
            size = stream.codec_context.frame_size or 1024
            for start in range(0, len(signal), size):
                chunk = signal[start : start + size]
                chunk = np.pad(chunk, (0, size - len(chunk)))
                frame = av.AudioFrame.from_ndarray(
                    chunk.reshape(1, -1), format="flt", layout="mono"
                )
                frame.sample_rate = rate
                frame.pts = start
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        return path.read_bytes()


def opus_ogg(seconds: float = 1.5) -> bytes:
    rate = 48_000
    signal = (np.sin(2 * np.pi * 300 * np.arange(int(seconds * rate)) / rate) * 0.3).astype(
        np.float32
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "voice.ogg"
        with av.open(str(path), "w", format="ogg") as out:
            stream = out.add_stream("libopus", rate=rate)
            stream.layout = "mono"
            for start in range(0, len(signal), 960):
                frame = av.AudioFrame.from_ndarray(
                    signal[start : start + 960].reshape(1, -1), format="flt", layout="mono"
                )
                frame.sample_rate = rate
                frame.pts = start
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        return path.read_bytes()
