"""The MediaStore contract, on both stores: put takes the file over, open reads any span,
delete is idempotent. The S3 store talks to a real S3 API server."""

from __future__ import annotations

from pathlib import Path

import pytest

from knock.features.media.store import MediaStore, open_media_store


async def read(store: MediaStore, key: str, start: int = 0, length: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.open(key, start, length)])


async def test_put_open_and_delete_behave_alike_on_both_stores(
    media_url: str, tmp_path: Path
) -> None:
    store, scratch = open_media_store(media_url, tmp_path)
    data = bytes(range(256)) * 1024  # 256 KiB: several chunks
    source = scratch / "upload"
    source.write_bytes(data)
    await store.put("01abc", source)
    assert not source.exists()  # the store took it over
    assert await read(store, "01abc") == data
    assert await read(store, "01abc", 1000, 10) == data[1000:1010]
    assert await read(store, "01abc", len(data) - 5) == data[-5:]
    assert await read(store, "01abc", 70_000, 140_000) == data[70_000:210_000]
    thumb = scratch / "thumb"
    thumb.write_bytes(b"small")
    await store.put("01abc.thumb", thumb)
    assert await read(store, "01abc.thumb") == b"small"

    await store.delete("01abc")
    await store.delete("01abc")  # again: no error
    await store.delete("01nothere")
    with pytest.raises(FileNotFoundError):
        await read(store, "01abc")
    assert await read(store, "01abc.thumb") == b"small"
    for bad in ("../etc/passwd", "A/B", "x" * 65, ""):
        with pytest.raises(ValueError, match="not a media key"):
            await store.delete(bad)


def test_the_media_url_picks_the_store(tmp_path: Path) -> None:
    local, scratch = open_media_store("", tmp_path)
    assert scratch == tmp_path / "media" / "tmp" and scratch.is_dir()
    elsewhere, _ = open_media_store(f"file://{tmp_path / 'other'}", tmp_path)
    assert (tmp_path / "other" / "tmp").is_dir()
    assert type(local).__name__ == type(elsewhere).__name__ == "LocalMediaStore"
