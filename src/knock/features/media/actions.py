"""Media: upload (checked and cleaned), who may fetch what, and attaching to messages."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database
from knock.core.errors import Conflict, InvalidInput, NotFound, RateLimited
from knock.core.ids import ID_LENGTH, new_id
from knock.features.burn.actions import burn_states
from knock.features.conversations.actions import access_conversation
from knock.features.media import repository as repo
from knock.features.media.models import Media
from knock.features.media.processing import Limits, Processed, process
from knock.features.media.schemas import MediaOut
from knock.features.media.store import MediaStore

# Which files each message type holds, in the order the message lists them.
MEDIA_OF_TYPE: dict[str, tuple[str, ...]] = {
    "text": (),
    "image": ("image",),
    "voice": ("audio",),
    "voice_photo": ("image", "audio"),
}
THUMB_SUFFIX = ".thumb"
# Decoding is CPU-bound; two at a time keep a small machine answering everything else.
MAX_CONCURRENT_PROCESSING = 2
UPLOAD_RATE_WINDOW = timedelta(minutes=1)

# (session, viewer id, media id) -> may the viewer see an album item holding this file?
# Albums provide it; main.py passes it in (albums import media, not the reverse).
AlbumMediaAccess = Callable[[AsyncSession, str, str], Awaitable[bool]]
# The same question for an approval holding the file (approvals provide it).
ApprovalMediaAccess = Callable[[AsyncSession, str, str], Awaitable[bool]]


async def _no_albums(session: AsyncSession, user_id: str, media_id: str) -> bool:
    return False


async def _no_approvals(session: AsyncSession, user_id: str, media_id: str) -> bool:
    return False


def media_out(media: Media) -> MediaOut:
    return MediaOut(
        id=media.id,
        kind=media.kind,
        mime=media.mime,
        size=media.size,
        width=media.width,
        height=media.height,
        duration_ms=media.duration_ms,
        waveform=list(media.waveform) if media.waveform is not None else None,
    )


def storage_keys(media_ids: Iterable[str]) -> list[str]:
    """Every stored file of these media: the file and its thumbnail (if it has one)."""
    return [key for media_id in media_ids for key in (media_id, media_id + THUMB_SUFFIX)]


@dataclass(frozen=True)
class Download:
    key: str
    size: int
    mime: str
    kind: str
    filename: str


def limits_of(settings: Settings) -> Limits:
    return Limits(
        image_bytes=settings.media_max_image_bytes,
        image_pixels=settings.media_max_image_pixels,
        audio_bytes=settings.media_max_audio_bytes,
        audio_s=settings.media_max_audio_s,
    )


class MediaLibrary:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        store: MediaStore,
        scratch: Path,
        album_access: AlbumMediaAccess = _no_albums,
        approval_access: ApprovalMediaAccess = _no_approvals,
    ) -> None:
        self._db = db
        self._store = store
        self._limits = limits_of(settings)
        self._unsent_ttl = timedelta(seconds=settings.media_unsent_ttl_s)
        self._uploads_per_minute = settings.media_uploads_per_minute
        self._album_access = album_access
        self._approval_access = approval_access
        self.scratch = scratch
        self._processing = asyncio.Semaphore(MAX_CONCURRENT_PROCESSING)

    async def check_upload_rate(self, user_id: str) -> None:
        """RateLimited once this person made ``KNOCK_MEDIA_UPLOADS_PER_MINUTE`` uploads in
        the last minute. Counted from the media table, so the limit holds across nodes;
        checked before the body is read, so a refused upload costs no bandwidth."""
        now = utcnow()
        async with self._db.read() as session:
            recent = await repo.recent_upload_times(
                session, user_id, now - UPLOAD_RATE_WINDOW, self._uploads_per_minute
            )
        if len(recent) >= self._uploads_per_minute:
            # A slot frees when the oldest of the newest N leaves the window.
            wait = (recent[-1] + UPLOAD_RATE_WINDOW - now).total_seconds()
            raise RateLimited(
                math.ceil(wait),
                f"At most {self._uploads_per_minute} uploads a minute; try again shortly.",
            )

    @property
    def max_upload_bytes(self) -> int:
        return max(self._limits.image_bytes, self._limits.audio_bytes)

    async def do_upload(self, user_id: str, source: Path) -> MediaOut:
        """Check, clean and store an uploaded file (``source`` is removed in every case)."""
        processed: Processed | None = None
        try:
            async with self._processing:
                processed = await asyncio.to_thread(process, source, self.scratch, self._limits)
            media = Media(
                id=new_id(),
                owner_id=user_id,
                kind=processed.kind,
                mime=processed.mime,
                size=processed.size,
                width=processed.width,
                height=processed.height,
                duration_ms=processed.duration_ms,
                waveform=processed.waveform,
                thumb_size=processed.thumb_size,
                thumb_mime=processed.thumb_mime,
                created_at=utcnow(),
                message_id=None,
                conversation_id=None,
                position=0,
            )
            # Files first: a row never points at a file that is not there.
            await self._store.put(media.id, processed.path)
            if processed.thumb_path is not None:
                await self._store.put(media.id + THUMB_SUFFIX, processed.thumb_path)
            try:
                async with self._db.transaction() as txn:
                    await repo.insert_media_txn(txn.session, media)
            except BaseException:
                await self.delete_files(storage_keys([media.id]))
                raise
            return media_out(media)
        finally:
            leftovers = [source]
            if processed is not None:
                leftovers += [p for p in (processed.path, processed.thumb_path) if p is not None]
            for path in leftovers:
                path.unlink(missing_ok=True)
            for path in self.scratch.glob(source.name + ".*"):
                path.unlink(missing_ok=True)

    async def download(self, user_id: str, media_id: str, thumb: bool) -> Download:
        """The file, if the caller may see it: its uploader while it is unattached, then
        whoever may see the content of the message holding it, whoever may see an album
        holding it, and whoever may see an approval holding it. Else NotFound."""
        if len(media_id) > ID_LENGTH:
            raise NotFound()
        async with self._db.read() as session:
            media = await repo.media_by_id(session, media_id)
            if media is None:
                raise NotFound()
            if not (
                await _may_see_by_message(session, user_id, media)
                or (media.album_holds > 0 and await self._album_access(session, user_id, media.id))
                or (
                    media.approval_holds > 0
                    and await self._approval_access(session, user_id, media.id)
                )
            ):
                raise NotFound()
        if thumb:
            if media.thumb_size is None or media.thumb_mime is None:
                raise NotFound()
            return Download(
                media.id + THUMB_SUFFIX, media.thumb_size, media.thumb_mime, "image", media.id
            )
        return Download(media.id, media.size, media.mime, media.kind, media.id)

    def open(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        """The stored bytes (``start``, ``length``) of a key ``download`` answered."""
        return self._store.open(key, start, length)

    async def do_purge_unsent(self, batch: int = 500) -> int:
        """Delete uploads that no message took within the TTL; returns how many went.
        Rows go first (under the lock an attaching send also takes), files after commit."""
        purged = 0
        while True:
            async with self._db.read() as session:
                candidates = await repo.unsent_before(session, utcnow() - self._unsent_ttl, batch)
            if not candidates:
                return purged
            async with self._db.transaction() as txn:
                gone = await repo.delete_unsent_txn(txn.session, candidates)
            await self.delete_files(storage_keys(gone))
            purged += len(gone)
            if len(candidates) < batch:
                return purged

    async def delete_files(self, keys: Iterable[str]) -> None:
        for key in keys:
            await self._store.delete(key)


async def _may_see_by_message(session: AsyncSession, user_id: str, media: Media) -> bool:
    if media.message_id is None or media.conversation_id is None:
        return media.owner_id == user_id
    try:
        await access_conversation(session, user_id, media.conversation_id)
    except NotFound:
        return False
    states = await burn_states(session, user_id, [media.message_id], utcnow())
    state = states.get(media.message_id)
    return state is None or not state.sealed


async def check_media_for_message_txn(
    session: AsyncSession, user_id: str, message_type: str, media_ids: list[str]
) -> list[str]:
    """The media ids in message order, once they are the sender's own, unattached, and of
    the kinds the type needs (image: one image; voice: one audio; voice_photo: one of each).
    Their rows stay locked until commit, so two messages cannot take the same file."""
    wanted = MEDIA_OF_TYPE[message_type]
    if len(media_ids) != len(wanted) or len(set(media_ids)) != len(media_ids):
        raise InvalidInput(
            f"media_ids: a {message_type} message holds "
            + (" and ".join(f"one {kind}" for kind in wanted) or "no media")
            + "."
        )
    if not wanted:
        return []
    found = {m.id: m for m in await repo.lock_media_txn(session, media_ids)}
    for media_id in media_ids:
        media = found.get(media_id)
        if media is None or media.owner_id != user_id:
            raise InvalidInput("media_ids: no such upload of yours.")
        if media.message_id is not None:
            raise Conflict(
                "media_ids: this upload is already in a message; upload it again.",
                code="media_in_use",
            )
        if media.album_holds > 0:
            # A file is in one place: a burn message must not share one with an album.
            raise Conflict(
                "media_ids: this upload is in an album; upload it again to send it.",
                code="media_in_use",
            )
        if media.approval_holds > 0:
            # A recalled or burnt message takes its files along; an approval keeps its own.
            raise Conflict(
                "media_ids: this upload is attached to an approval; upload it again to send it.",
                code="media_in_use",
            )
    by_kind = {found[m].kind: m for m in media_ids}
    if sorted(by_kind) != sorted(wanted):
        raise InvalidInput(
            f"media_ids: a {message_type} message holds "
            + " and ".join(f"one {kind}" for kind in wanted)
            + "."
        )
    return [by_kind[kind] for kind in wanted]


async def attach_media_txn(
    session: AsyncSession, media_ids: list[str], message_id: str, conversation_id: str
) -> None:
    await repo.attach_media_txn(session, media_ids, message_id, conversation_id)


async def media_of_messages(
    session: AsyncSession, message_ids: list[str]
) -> dict[str, list[MediaOut]]:
    """Each message's media, in message order; one query."""
    found: dict[str, list[MediaOut]] = {}
    for media in await repo.media_of_messages(session, message_ids):
        assert media.message_id is not None
        found.setdefault(media.message_id, []).append(media_out(media))
    return found


async def detach_media_txn(session: AsyncSession, message_ids: list[str]) -> list[str]:
    """Forget the media of these messages; returns the storage keys to delete (after
    commit, or before it when the files must go even if the commit fails)."""
    ids = [m.id for m in await repo.media_of_messages(session, message_ids)]
    await repo.delete_media_txn(session, ids)
    return storage_keys(ids)


async def stored_keys_of(session: AsyncSession, message_ids: list[str]) -> list[str]:
    return storage_keys(m.id for m in await repo.media_of_messages(session, message_ids))


async def check_uploads_for_album_txn(
    session: AsyncSession, user_id: str, image_id: str, audio_id: str | None
) -> list[Media]:
    """The caller's own unsent uploads for an album item (an image, and for a voice photo an
    audio), locked until commit so the sweeper cannot take them meanwhile."""
    wanted = [image_id] if audio_id is None else [image_id, audio_id]
    if len(set(wanted)) != len(wanted):
        raise InvalidInput("voice_media_id: must be another upload than media_id.")
    found = {m.id: m for m in await repo.lock_media_txn(session, wanted)}
    for field, media_id, kind in (
        ("media_id", image_id, "image"),
        ("voice_media_id", audio_id, "audio"),
    ):
        if media_id is None:
            continue
        media = found.get(media_id)
        if media is None or media.owner_id != user_id:
            raise InvalidInput(f"{field}: no such upload of yours.")
        if media.kind != kind:
            raise InvalidInput(f"{field}: must be an upload of kind {kind}.")
        if media.message_id is not None:
            raise Conflict(
                f"{field}: this upload is in a message; add the message to the album instead.",
                code="media_in_use",
            )
    return [found[m] for m in wanted]


async def hold_media_txn(session: AsyncSession, media_ids: Iterable[str]) -> None:
    """One more album item holds each of these files (their rows stay locked to commit)."""
    for media_id in media_ids:
        await repo.change_album_holds_txn(session, media_id, 1)


async def release_media_txn(session: AsyncSession, media_ids: Iterable[str]) -> None:
    """One album item fewer holds each file (a file listed twice is released twice). A
    file then held by nothing is left to the sweeper of unsent uploads."""
    for media_id in media_ids:
        await repo.change_album_holds_txn(session, media_id, -1)


async def media_by_ids(session: AsyncSession, media_ids: list[str]) -> dict[str, Media]:
    return {m.id: m for m in await repo.media_by_ids(session, media_ids)}


async def lock_media_of_message_txn(session: AsyncSession, message_id: str) -> list[Media]:
    """A message's media in message order (image first), locked until commit."""
    media = await repo.media_of_messages(session, [message_id])
    locked = {m.id: m for m in await repo.lock_media_txn(session, [m.id for m in media])}
    return [locked[m.id] for m in media if m.id in locked]


async def check_uploads_for_approval_txn(
    session: AsyncSession, user_id: str, where_of: dict[str, str]
) -> None:
    """The caller's own image uploads that no message holds, for an approval's attachment
    answers (``where_of``: media id -> the answer naming it, for the error). Their rows stay
    locked until commit, so neither the sweeper nor a send can take them meanwhile."""
    found = {m.id: m for m in await repo.lock_media_txn(session, sorted(where_of))}
    for media_id, where in where_of.items():
        media = found.get(media_id)
        if media is None or media.owner_id != user_id:
            raise InvalidInput(f"{where}: no such upload of yours.")
        if media.kind != "image":
            raise InvalidInput(f"{where}: attachments are images (photos or scans).")
        if media.message_id is not None:
            raise Conflict(
                f"{where}: this upload is in a message; upload it again to attach it.",
                code="media_in_use",
            )


async def hold_for_approval_txn(session: AsyncSession, media_ids: Iterable[str]) -> None:
    """One more approval holds each of these files (their rows locked to commit)."""
    for media_id in media_ids:
        await repo.change_approval_holds_txn(session, media_id, 1)


async def release_from_approval_txn(session: AsyncSession, media_ids: Iterable[str]) -> None:
    """One approval fewer holds each file; a file then held by nothing is left to the
    sweeper of unsent uploads."""
    for media_id in media_ids:
        await repo.change_approval_holds_txn(session, media_id, -1)
