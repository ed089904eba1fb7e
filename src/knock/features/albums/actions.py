"""Albums: team and conversation photo albums, their items (from uploads or from chat
messages), captions, and who may see and change what."""

from __future__ import annotations

import hashlib

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database, Transaction
from knock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from knock.core.events import Audience
from knock.core.ids import ID_LENGTH, new_id
from knock.features.albums import repository as repo
from knock.features.albums.events import AlbumChange, AlbumUpdated
from knock.features.albums.models import Album, AlbumItem
from knock.features.albums.schemas import (
    AddItemIn,
    AlbumItemOut,
    AlbumItemPage,
    AlbumOut,
    AlbumPage,
    CreateAlbumIn,
)
from knock.features.conversations.actions import (
    access_conversation,
    check_own_conversation_in_org,
)
from knock.features.media.actions import (
    check_uploads_for_album_txn,
    hold_media_txn,
    lock_media_of_message_txn,
    media_by_ids,
    release_media_txn,
)
from knock.features.media.models import Media
from knock.features.messages.actions import access_message
from knock.features.orgs.actions import access_org, access_org_for_change_txn, is_admin
from knock.features.orgs.models import OrgMember

# Message types an album takes, and the item kind each becomes.
ITEM_KIND_OF_MESSAGE = {"image": "image", "voice_photo": "voice_photo"}


async def access_album(
    session: AsyncSession, user_id: str, album_id: str, *, lock: bool = False
) -> tuple[Album, OrgMember]:
    """The album and the caller's team membership; NotFound unless the caller is in its
    team and, for a conversation album, in that conversation. ``lock`` (in a transaction)
    locks the album row, so item changes and the album's deletion queue behind each other."""
    if len(album_id) > ID_LENGTH:
        raise NotFound()
    album = await (repo.lock_album_txn if lock else repo.album_by_id)(session, album_id)
    if album is None:
        raise NotFound()
    member = await access_org(session, user_id, album.org_id)
    if album.conversation_id is not None:
        await access_conversation(session, user_id, album.conversation_id)
    return album, member


async def may_see_album_media(session: AsyncSession, user_id: str, media_id: str) -> bool:
    """Whether an album the viewer may see holds this file (for GET /media)."""
    for album in await repo.albums_holding(session, media_id):
        try:
            await access_album(session, user_id, album.id)
        except NotFound:
            continue
        return True
    return False


async def remove_message_items_txn(txn: Transaction, message_ids: list[str]) -> None:
    """Take the items made from these messages (being recalled) out of every album, with an
    ``item_removed`` each, before the messages' files go. The album rows are not locked or
    touched: the recall holds the message's lock, and an add from that message takes the
    album's lock first, so taking both here could deadlock."""
    for item in await repo.items_from_messages(txn.session, message_ids):
        album = await repo.album_by_id(txn.session, item.album_id)
        if album is not None:
            await _remove_item_txn(txn, album, item, touch=False)


async def _remove_item_txn(
    txn: Transaction, album: Album, item: AlbumItem, *, touch: bool = True
) -> None:
    held = [item.media_id] + ([item.voice_media_id] if item.voice_media_id else [])
    await release_media_txn(txn.session, held)
    await repo.delete_item_txn(txn.session, item.id)
    if touch:
        await repo.update_album_txn(txn.session, album, updated_at=utcnow())
    out = (await album_outs(txn.session, [album]))[0]
    event = AlbumUpdated(album=out, change="item_removed", item_id=item.id)
    txn.emit(event, album_audience(album))


def check_may_change_album(album: Album, member: OrgMember) -> None:
    if album.owner_id != member.user_id and not is_admin(member):
        raise Forbidden("Only the album's owner and the team's admins may do this.")


def check_may_change_item(item: AlbumItem, album: Album, member: OrgMember) -> None:
    if member.user_id not in (item.added_by, album.owner_id) and not is_admin(member):
        raise Forbidden(
            "Only who added the item, the album's owner and the team's admins may do this."
        )


def album_audience(album: Album) -> Audience:
    if album.conversation_id is not None:
        return Audience(conversation_id=album.conversation_id)
    return Audience(org_id=album.org_id)


async def album_outs(session: AsyncSession, albums: list[Album]) -> list[AlbumOut]:
    stats = await repo.item_stats(session, [a.id for a in albums])
    return [
        AlbumOut(
            id=a.id,
            org_id=a.org_id,
            conversation_id=a.conversation_id,
            title=a.title,
            owner_id=a.owner_id,
            item_count=stats.get(a.id, (0, None))[0],
            cover_media_id=stats.get(a.id, (0, None))[1],
            created_at=a.created_at,
            updated_at=a.updated_at,
        )
        for a in albums
    ]


async def item_outs(session: AsyncSession, items: list[AlbumItem]) -> list[AlbumItemOut]:
    """Items with their image's size and their recording's length and waveform (one query)."""
    wanted = [i.media_id for i in items] + [i.voice_media_id for i in items if i.voice_media_id]
    media = await media_by_ids(session, wanted)
    outs = []
    for item in items:
        image = media.get(item.media_id)
        voice = media.get(item.voice_media_id) if item.voice_media_id else None
        outs.append(
            AlbumItemOut(
                id=item.id,
                album_id=item.album_id,
                added_by=item.added_by,
                kind="voice_photo" if item.kind == "voice_photo" else "image",
                media_id=item.media_id,
                voice_media_id=item.voice_media_id,
                caption=item.caption,
                width=image.width if image else None,
                height=image.height if image else None,
                duration_ms=voice.duration_ms if voice else None,
                waveform=list(voice.waveform) if voice and voice.waveform is not None else None,
                source_message_id=item.source_message_id,
                created_at=item.created_at,
            )
        )
    return outs


def item_request_hash(body: AddItemIn) -> str:
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def check_item_source(body: AddItemIn) -> None:
    if (body.media_id is None) == (body.message_id is None):
        raise InvalidInput("Give media_id (an upload of yours) or message_id, not both.")
    if body.voice_media_id is not None and body.media_id is None:
        raise InvalidInput("voice_media_id: goes with media_id (the photo it speaks for).")


class Albums:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._max_albums = settings.album_max_per_org
        self._max_items = settings.album_max_items

    async def do_create_album(self, user_id: str, org_id: str, body: CreateAlbumIn) -> AlbumOut:
        async with self._db.transaction() as txn:
            session = txn.session
            # The org's row lock makes the count and the insert one step across nodes.
            await access_org_for_change_txn(txn, user_id, org_id)
            if body.conversation_id is not None:
                await check_own_conversation_in_org(session, user_id, org_id, body.conversation_id)
            if await repo.count_albums(session, org_id) >= self._max_albums:
                raise Conflict(
                    f"A team has at most {self._max_albums} albums; delete one first.",
                    code="album_limit_reached",
                )
            now = utcnow()
            album = Album(
                id=new_id(),
                org_id=org_id,
                conversation_id=body.conversation_id,
                title=body.title,
                owner_id=user_id,
                created_at=now,
                updated_at=now,
            )
            await repo.insert_album_txn(session, album)
            return await self._changed_txn(txn, album, "created")

    async def albums(
        self,
        user_id: str,
        org_id: str,
        conversation_id: str | None,
        before: str | None,
        limit: int,
    ) -> AlbumPage:
        async with self._db.read() as session:
            await access_org(session, user_id, org_id)
            if conversation_id is not None:
                conversation, _ = await access_conversation(session, user_id, conversation_id)
                if conversation.org_id != org_id:
                    raise NotFound()
            found = await repo.visible_albums(
                session, org_id, user_id, conversation_id, before, limit + 1
            )
            page = found[:limit]
            items = await album_outs(session, page)
        return AlbumPage(items=items, next_before=page[-1].id if len(found) > limit else None)

    async def album(self, user_id: str, album_id: str) -> AlbumOut:
        async with self._db.read() as session:
            album, _ = await access_album(session, user_id, album_id)
            return (await album_outs(session, [album]))[0]

    async def do_rename_album(self, user_id: str, album_id: str, title: str) -> AlbumOut:
        async with self._db.transaction() as txn:
            album, member = await access_album(txn.session, user_id, album_id, lock=True)
            check_may_change_album(album, member)
            await repo.update_album_txn(txn.session, album, title=title, updated_at=utcnow())
            return await self._changed_txn(txn, album, "renamed")

    async def do_delete_album(self, user_id: str, album_id: str) -> None:
        """The album and its items go; their files stay while a message or another album
        holds them, and the sweeper of unsent uploads takes those nothing holds."""
        async with self._db.transaction() as txn:
            album, member = await access_album(txn.session, user_id, album_id, lock=True)
            check_may_change_album(album, member)
            await release_media_txn(
                txn.session, await repo.held_media_of_album(txn.session, album.id)
            )
            await self._changed_txn(txn, album, "deleted")
            await repo.delete_album_txn(txn.session, album.id)

    async def _changed_txn(
        self, txn: Transaction, album: Album, change: AlbumChange, item_id: str | None = None
    ) -> AlbumOut:
        out = (await album_outs(txn.session, [album]))[0]
        txn.emit(AlbumUpdated(album=out, change=change, item_id=item_id), album_audience(album))
        return out

    async def do_add_item(
        self, user_id: str, album_id: str, body: AddItemIn
    ) -> tuple[AlbumItemOut, bool]:
        """The new item (True), or the original one when this is a retry (False)."""
        check_item_source(body)
        digest = item_request_hash(body)
        try:
            async with self._db.transaction() as txn:
                return await self._add_item_txn(txn, user_id, album_id, body, digest)
        except IntegrityError:
            # A concurrent retry with the same client_item_id committed first.
            async with self._db.read() as session:
                await access_album(session, user_id, album_id)
                existing = await repo.item_by_client_id(
                    session, album_id, user_id, body.client_item_id
                )
                if existing is None:
                    raise
                return await self._replay(session, existing, digest), False

    async def _replay(
        self, session: AsyncSession, existing: AlbumItem, digest: str
    ) -> AlbumItemOut:
        if existing.request_hash != digest:
            raise Conflict(
                "This client_item_id was already used for another item.",
                code="client_item_id_reused",
            )
        return (await item_outs(session, [existing]))[0]

    async def _add_item_txn(
        self, txn: Transaction, user_id: str, album_id: str, body: AddItemIn, digest: str
    ) -> tuple[AlbumItemOut, bool]:
        session = txn.session
        album, _ = await access_album(session, user_id, album_id, lock=True)
        existing = await repo.item_by_client_id(session, album.id, user_id, body.client_item_id)
        if existing is not None:
            return await self._replay(session, existing, digest), False
        if await repo.count_items(session, album.id) >= self._max_items:
            raise Conflict(
                f"An album holds at most {self._max_items} items; start another one.",
                code="album_full",
            )
        if body.message_id is not None:
            kind, media = await self._media_of_message_txn(session, user_id, album, body.message_id)
        else:
            assert body.media_id is not None
            media = await check_uploads_for_album_txn(
                session, user_id, body.media_id, body.voice_media_id
            )
            kind = "image" if body.voice_media_id is None else "voice_photo"
        await hold_media_txn(session, [m.id for m in media])
        now = utcnow()
        item = AlbumItem(
            id=new_id(),
            album_id=album.id,
            added_by=user_id,
            client_item_id=body.client_item_id,
            request_hash=digest,
            kind=kind,
            media_id=media[0].id,
            voice_media_id=media[1].id if len(media) > 1 else None,
            caption=body.caption,
            source_message_id=body.message_id,
            created_at=now,
        )
        await repo.insert_item_txn(session, item)
        await repo.update_album_txn(session, album, updated_at=now)
        await self._changed_txn(txn, album, "item_added", item.id)
        return (await item_outs(session, [item]))[0], True

    async def _media_of_message_txn(
        self, session: AsyncSession, user_id: str, album: Album, message_id: str
    ) -> tuple[str, list[Media]]:
        """The item kind and the files (image first) of a message the caller may see. Its
        row stays locked to commit, so a recall cannot take the files meanwhile."""
        message, conversation, _ = await access_message(session, user_id, message_id, lock=True)
        if conversation.org_id != album.org_id:
            raise InvalidInput("message_id: the message is from another team.")
        if message.burn_after_s is not None:
            raise InvalidInput(
                "message_id: a burn-after-reading message cannot be saved to an album.",
                code="burn_message",
            )
        if message.recalled:
            raise Conflict("message_id: the message was recalled.", code="message_recalled")
        kind = ITEM_KIND_OF_MESSAGE.get(message.type)
        if kind is None:
            raise InvalidInput("message_id: only photo and voice photo messages go in albums.")
        media = await lock_media_of_message_txn(session, message.id)
        images = [m for m in media if m.kind == "image"]
        audio = [m for m in media if m.kind == "audio"]
        if not images or (kind == "voice_photo" and not audio):
            raise Conflict("message_id: the message's files are gone.", code="message_recalled")
        return kind, images[:1] + audio[:1] if kind == "voice_photo" else images[:1]

    async def items(
        self, user_id: str, album_id: str, before: str | None, limit: int
    ) -> AlbumItemPage:
        async with self._db.read() as session:
            album, _ = await access_album(session, user_id, album_id)
            found = await repo.items_page(session, album.id, before, limit + 1)
            page = found[:limit]
            items = await item_outs(session, page)
        return AlbumItemPage(items=items, next_before=page[-1].id if len(found) > limit else None)

    async def _item_for_change_txn(
        self, txn: Transaction, user_id: str, album_id: str, item_id: str
    ) -> tuple[Album, AlbumItem]:
        album, member = await access_album(txn.session, user_id, album_id, lock=True)
        item = None
        if len(item_id) <= ID_LENGTH:
            item = await repo.item_by_id(txn.session, album.id, item_id)
        if item is None:
            raise NotFound()
        check_may_change_item(item, album, member)
        return album, item

    async def do_edit_caption(
        self, user_id: str, album_id: str, item_id: str, caption: str
    ) -> AlbumItemOut:
        async with self._db.transaction() as txn:
            album, item = await self._item_for_change_txn(txn, user_id, album_id, item_id)
            await repo.update_caption_txn(txn.session, item, caption)
            await repo.update_album_txn(txn.session, album, updated_at=utcnow())
            await self._changed_txn(txn, album, "caption_edited", item.id)
            return (await item_outs(txn.session, [item]))[0]

    async def do_remove_item(self, user_id: str, album_id: str, item_id: str) -> None:
        """The item goes; its files stay while anything else holds them."""
        async with self._db.transaction() as txn:
            album, item = await self._item_for_change_txn(txn, user_id, album_id, item_id)
            await _remove_item_txn(txn, album, item)
