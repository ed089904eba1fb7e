"""Uploads are judged by their content: a corpus of hostile and honest files."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from knock.features.media.tests import corpus
from knock.testing import Member, expect, register


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"media_max_image_bytes": 300_000, "media_max_audio_bytes": 300_000}


async def upload(who: Member, data: bytes, name: str, mime: str) -> httpx.Response:
    return await who.http.post("/media", files={"file": (name, data, mime)}, headers=who.auth)


async def test_hostile_files_are_refused_with_a_clear_error(http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    refused = {
        "30000x30000 PNG header": (
            corpus.huge_png_header(),
            "big.png",
            "image/png",
            422,
            "image_too_large",
        ),
        "GIF with a huge screen": (
            corpus.gif_huge_screen(),
            "bomb.gif",
            "image/gif",
            422,
            "image_too_large",
        ),
        "GIF with 600 frames": (
            corpus.gif_many_frames(),
            "many.gif",
            "image/gif",
            422,
            "image_too_large",
        ),
        "SVG named .png": (corpus.SVG, "cat.png", "image/png", 415, "unsupported_media_type"),
        "HTML named .png": (corpus.HTML, "cat.png", "image/png", 415, "unsupported_media_type"),
        "truncated JPEG": (
            corpus.jpeg_with_gps((400, 300))[:900],
            "half.jpg",
            "image/jpeg",
            422,
            "invalid_media",
        ),
        "ELF named .ogg": (corpus.ELF, "voice.ogg", "audio/ogg", 415, "unsupported_media_type"),
        "Ogg header, then junk": (
            b"OggS" + b"\x00" * 200,
            "v.ogg",
            "audio/ogg",
            422,
            "invalid_media",
        ),
        "over the byte cap": (
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 400_000,
            "x.png",
            "image/png",
            413,
            "file_too_large",
        ),
    }
    for label, (data, name, mime, status, code) in refused.items():
        response = await upload(ann, data, name, mime)
        assert response.status_code == status, (label, response.text)
        assert response.json()["error"]["code"] == code, label
        assert response.json()["error"]["message"], label
    # No field named file, or not multipart at all.
    response = await ann.http.post("/media", files={"other": ("a", b"x")}, headers=ann.auth)
    assert response.status_code == 422
    assert (await ann.post("/media", {"file": "x"})).status_code == 422


async def test_a_photo_loses_its_gps_and_exif_and_is_turned_upright(
    app: Any, http: httpx.AsyncClient
) -> None:
    ann = await register(http, "Ann")
    original = corpus.jpeg_with_gps((64, 48))
    with Image.open(io.BytesIO(original)) as image:  # the corpus file does carry a position
        assert image.getexif().get_ifd(0x8825)[2] == (52.0, 31.0, 12.0)
    assert b"\xff\xe1" in corpus.jpeg_segments(original) and b"CanaryCam" in original
    media = expect(await upload(ann, original, "me.png", "application/octet-stream"), 201)
    assert media["kind"] == "image" and media["mime"] == "image/jpeg"
    assert (media["width"], media["height"]) == (48, 64)  # orientation 6 applied
    assert media["duration_ms"] is None
    stored = await ann.get(f"/media/{media['id']}")
    assert stored.status_code == 200 and stored.content[:3] == b"\xff\xd8\xff"
    assert len(stored.content) == media["size"]
    assert b"\xff\xe1" not in corpus.jpeg_segments(stored.content)  # no APP1: no EXIF, XMP
    assert b"Exif" not in stored.content and b"CanaryCam" not in stored.content
    with Image.open(io.BytesIO(stored.content)) as image:
        assert image.size == (48, 64)
        assert not image.getexif()
    thumb = await ann.get(f"/media/{media['id']}", params={"thumb": 1})
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) <= 320
    # Nothing of the upload is left in the scratch directory.
    assert list(app.state.node.media.scratch.iterdir()) == []


async def test_real_recordings_are_accepted_with_duration_and_waveform(
    http: httpx.AsyncClient,
) -> None:
    ann = await register(http, "Ann")
    ogg = expect(await upload(ann, corpus.opus_ogg(1.5), "v.bin", "text/plain"), 201)
    assert (ogg["kind"], ogg["mime"]) == ("audio", "audio/ogg")
    assert abs(ogg["duration_ms"] - 1500) <= 30
    assert ogg["width"] is None and ogg["height"] is None
    wav = expect(await upload(ann, corpus.wav(2.0), "v.wav", "audio/wav"), 201)
    assert (wav["mime"], wav["duration_ms"]) == ("audio/wav", 2000)
    stored = await ann.get(f"/media/{ogg['id']}")
    assert stored.content[:4] == b"OggS" and len(stored.content) == ogg["size"]


async def test_pngs_webps_and_animated_gifs_are_reencoded(http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    png = expect(await upload(ann, corpus.png((40, 30)), "a.png", "image/png"), 201)
    assert (png["mime"], png["width"], png["height"]) == ("image/png", 40, 30)
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(out, format="WEBP")
    webp = expect(await upload(ann, out.getvalue(), "a.webp", "image/webp"), 201)
    assert webp["mime"] == "image/webp"
    gif = expect(await upload(ann, corpus.gif_many_frames(5), "a.gif", "image/gif"), 201)
    stored = await ann.get(f"/media/{gif['id']}")
    with Image.open(io.BytesIO(stored.content)) as image:
        assert image.n_frames == 5
