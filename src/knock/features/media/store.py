"""Where media bytes live: a Protocol, the local-disk store and the S3-compatible store.

Keys are Knock ids (with a ``.thumb`` suffix for thumbnails): short, ASCII, no slashes
from outside. ``KNOCK_MEDIA_URL`` picks the store (``open_media_store``).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

CHUNK = 64 * 1024
_KEY = re.compile(r"^[0-9a-z]{1,64}(\.thumb)?$")


class MediaStore(Protocol):
    """Stores files by key. ``put`` is atomic: a reader sees the whole file or nothing,
    and once it returns the file survives a crash. It takes over ``source`` (a local file
    that the store moves or uploads, then removes). ``open`` yields ``length`` bytes from
    ``start`` (to the end when None). ``delete`` physically removes the bytes and is
    idempotent (a missing key is not an error)."""

    async def put(self, key: str, source: Path) -> None: ...

    def open(self, key: str, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


class LocalMediaStore:
    """Files under one directory, two levels of 2-character shards by the key's tail (ids
    start with a timestamp, so their ends spread evenly)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scratch = root / "tmp"

    def _path(self, key: str) -> Path:
        base = _check_key(key).split(".")[0]
        return self.root / base[-2:] / base[-4:-2] / key

    def prepare(self) -> None:
        self.scratch.mkdir(parents=True, exist_ok=True)

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self._put, key, source)

    def _put(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as file:
            os.fsync(file.fileno())
        # A rename is atomic within one file system; fsync the directory so it lasts.
        os.replace(source, target)
        _fsync_dir(target.parent)

    async def open(
        self, key: str, start: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(key)
        file = await asyncio.to_thread(path.open, "rb")
        try:
            await asyncio.to_thread(file.seek, start)
            left = length
            while left is None or left > 0:
                chunk = await asyncio.to_thread(
                    file.read, CHUNK if left is None else min(CHUNK, left)
                )
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            file.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    def _delete(self, key: str) -> None:
        path = self._path(key)
        try:
            _overwrite(path)
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)


def _overwrite(path: Path) -> None:
    """Zero the bytes before unlinking: on most file systems the blocks are then not
    readable from the free space (SSDs and copy-on-write file systems may still keep old
    copies; full-disk encryption is the real answer there)."""
    size = path.stat().st_size
    with path.open("r+b") as file:
        zeros = bytes(CHUNK)
        written = 0
        while written < size:
            written += file.write(zeros[: min(CHUNK, size - written)])
        file.flush()
        os.fsync(file.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3MediaStore:
    """Objects in one bucket of an S3-compatible service, under an optional prefix. boto3
    is blocking, so every call runs in a worker thread; its client is thread-safe.

    ``put`` is one PUT (atomic: an object is whole or absent), ``open`` a ranged GET,
    ``delete`` a DELETE (S3 answers a missing key with success too). On a bucket without
    versioning the deleted object is gone; with versioning on, old versions would stay,
    so burn-after-reading needs a bucket without it."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # boto3 and botocore ship no type hints; their calls are typed Any at this edge. They
        # are imported here, by a node that keeps media on S3: they cost about a second of
        # every start of a node that keeps media on local disk.
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        self._client_error: type[Exception] = ClientError
        if client is None:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            # Endpoint (AWS_ENDPOINT_URL), region and credentials come from the environment.
            client = boto3.client(
                "s3", config=Config(retries={"mode": "standard", "max_attempts": 3})
            )
        self._client = client

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self._put, key, source)

    def _put(self, key: str, source: Path) -> None:
        with source.open("rb") as file:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=file)
        source.unlink(missing_ok=True)

    async def open(
        self, key: str, start: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        if length == 0:
            return
        end = "" if length is None else str(start + length - 1)
        try:
            answer = await asyncio.to_thread(
                self._client.get_object,
                Bucket=self.bucket,
                Key=self._key(key),
                Range=f"bytes={start}-{end}",
            )
        except self._client_error as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                # As the local store: a missing key reads as a missing file.
                raise FileNotFoundError(key) from None
            raise
        body = answer["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    def _delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._client_error as exc:
            if _error_code(exc) not in ("NoSuchKey", "404"):
                raise


def _error_code(exc: Any) -> str:
    """The S3 error code of a botocore ``ClientError``."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def open_media_store(media_url: str, data_dir: Path) -> tuple[MediaStore, Path]:
    """The store ``KNOCK_MEDIA_URL`` names and a local scratch directory for uploads being
    checked: empty = ``<data dir>/media``, ``file:///dir``, or ``s3://bucket[/prefix]``."""
    if media_url.startswith("s3://"):
        parts = urlsplit(media_url)
        scratch = data_dir / "media-scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        return S3MediaStore(parts.netloc, parts.path), scratch
    root = Path(urlsplit(media_url).path) if media_url else data_dir / "media"
    local = LocalMediaStore(root)
    local.prepare()
    return local, local.scratch
