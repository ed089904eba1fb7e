"""SQL for albums and their items."""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.albums.models import Album, AlbumItem
from knock.features.conversations.models import ConversationMember


async def insert_album_txn(session: AsyncSession, album: Album) -> None:
    session.add(album)
    await session.flush()


async def album_by_id(session: AsyncSession, album_id: str) -> Album | None:
    return (await session.execute(select(Album).where(Album.id == album_id))).scalar_one_or_none()


async def lock_album_txn(session: AsyncSession, album_id: str) -> Album | None:
    rows = await session.execute(
        select(Album)
        .where(Album.id == album_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return rows.scalar_one_or_none()


async def count_albums(session: AsyncSession, org_id: str) -> int:
    rows = await session.execute(select(func.count()).where(Album.org_id == org_id))
    return int(rows.scalar_one())


async def visible_albums(
    session: AsyncSession,
    org_id: str,
    user_id: str,
    conversation_id: str | None,
    before: str | None,
    limit: int,
) -> list[Album]:
    """Newest first: the team's albums and those of the conversations the user is in (or
    only one conversation's, when given; the caller has checked they are in it)."""
    query = select(Album).where(Album.org_id == org_id)
    if conversation_id is not None:
        query = query.where(Album.conversation_id == conversation_id)
    else:
        theirs = select(ConversationMember.conversation_id).where(
            ConversationMember.user_id == user_id
        )
        query = query.where(or_(Album.conversation_id.is_(None), Album.conversation_id.in_(theirs)))
    if before is not None:
        query = query.where(Album.id < before)
    rows = await session.execute(query.order_by(Album.id.desc()).limit(limit))
    return list(rows.scalars())


async def item_stats(
    session: AsyncSession, album_ids: list[str]
) -> dict[str, tuple[int, str | None]]:
    """Per album: how many items it has and the image of its newest one (two queries)."""
    if not album_ids:
        return {}
    rows = await session.execute(
        select(AlbumItem.album_id, func.count(), func.max(AlbumItem.id))
        .where(AlbumItem.album_id.in_(album_ids))
        .group_by(AlbumItem.album_id)
    )
    counts = {album_id: (int(count), newest) for album_id, count, newest in rows}
    newest_ids = [newest for _, newest in counts.values()]
    cover_rows = await session.execute(
        select(AlbumItem.id, AlbumItem.media_id).where(AlbumItem.id.in_(newest_ids))
    )
    covers = {item_id: media_id for item_id, media_id in cover_rows}
    return {album_id: (count, covers.get(newest)) for album_id, (count, newest) in counts.items()}


async def update_album_txn(session: AsyncSession, album: Album, **values: object) -> None:
    await session.execute(update(Album).where(Album.id == album.id).values(**values))
    for name, value in values.items():
        setattr(album, name, value)


async def delete_album_txn(session: AsyncSession, album_id: str) -> None:
    await session.execute(delete(Album).where(Album.id == album_id))


async def insert_item_txn(session: AsyncSession, item: AlbumItem) -> None:
    session.add(item)
    await session.flush()


async def item_by_client_id(
    session: AsyncSession, album_id: str, added_by: str, client_item_id: str
) -> AlbumItem | None:
    rows = await session.execute(
        select(AlbumItem).where(
            AlbumItem.album_id == album_id,
            AlbumItem.added_by == added_by,
            AlbumItem.client_item_id == client_item_id,
        )
    )
    return rows.scalar_one_or_none()


async def item_by_id(session: AsyncSession, album_id: str, item_id: str) -> AlbumItem | None:
    rows = await session.execute(
        select(AlbumItem).where(AlbumItem.album_id == album_id, AlbumItem.id == item_id)
    )
    return rows.scalar_one_or_none()


async def count_items(session: AsyncSession, album_id: str) -> int:
    rows = await session.execute(select(func.count()).where(AlbumItem.album_id == album_id))
    return int(rows.scalar_one())


async def items_page(
    session: AsyncSession, album_id: str, before: str | None, limit: int
) -> list[AlbumItem]:
    query = select(AlbumItem).where(AlbumItem.album_id == album_id)
    if before is not None:
        query = query.where(AlbumItem.id < before)
    rows = await session.execute(query.order_by(AlbumItem.id.desc()).limit(limit))
    return list(rows.scalars())


async def update_caption_txn(session: AsyncSession, item: AlbumItem, caption: str) -> None:
    await session.execute(update(AlbumItem).where(AlbumItem.id == item.id).values(caption=caption))
    item.caption = caption


async def delete_item_txn(session: AsyncSession, item_id: str) -> None:
    await session.execute(delete(AlbumItem).where(AlbumItem.id == item_id))


async def held_media_of_album(session: AsyncSession, album_id: str) -> list[str]:
    """Every file the album's items hold, once per item holding it."""
    rows = await session.execute(
        select(AlbumItem.media_id, AlbumItem.voice_media_id).where(AlbumItem.album_id == album_id)
    )
    return [media_id for pair in rows for media_id in pair if media_id is not None]


async def albums_holding(session: AsyncSession, media_id: str) -> list[Album]:
    rows = await session.execute(
        select(Album)
        .join(AlbumItem, AlbumItem.album_id == Album.id)
        .where(or_(AlbumItem.media_id == media_id, AlbumItem.voice_media_id == media_id))
        .distinct()
    )
    return list(rows.scalars())


async def items_from_messages(session: AsyncSession, message_ids: list[str]) -> list[AlbumItem]:
    if not message_ids:
        return []
    rows = await session.execute(
        select(AlbumItem)
        .where(AlbumItem.source_message_id.in_(message_ids))
        .order_by(AlbumItem.album_id, AlbumItem.id)
    )
    return list(rows.scalars())
