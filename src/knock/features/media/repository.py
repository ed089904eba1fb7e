"""SQL for media."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.media.models import Media


async def insert_media_txn(session: AsyncSession, media: Media) -> None:
    session.add(media)
    await session.flush()


async def media_by_id(session: AsyncSession, media_id: str) -> Media | None:
    return (await session.execute(select(Media).where(Media.id == media_id))).scalar_one_or_none()


async def lock_media_txn(session: AsyncSession, media_ids: list[str]) -> list[Media]:
    rows = await session.execute(
        select(Media)
        .where(Media.id.in_(media_ids))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def attach_media_txn(
    session: AsyncSession, media_ids: list[str], message_id: str, conversation_id: str
) -> None:
    for position, media_id in enumerate(media_ids):
        await session.execute(
            update(Media)
            .where(Media.id == media_id)
            .values(message_id=message_id, conversation_id=conversation_id, position=position)
        )


async def media_of_messages(session: AsyncSession, message_ids: list[str]) -> list[Media]:
    if not message_ids:
        return []
    rows = await session.execute(
        select(Media).where(Media.message_id.in_(message_ids)).order_by(Media.position)
    )
    return list(rows.scalars())


async def unsent_before(session: AsyncSession, cutoff: datetime, limit: int) -> list[str]:
    rows = await session.execute(
        select(Media.id)
        .where(
            Media.message_id.is_(None),
            Media.album_holds == 0,
            Media.approval_holds == 0,
            Media.created_at < cutoff,
        )
        .limit(limit)
    )
    return list(rows.scalars())


async def delete_unsent_txn(session: AsyncSession, media_ids: list[str]) -> list[str]:
    """Delete those of these uploads that are still in no message, album or approval; returns
    their ids. The conditions are on the row, so PostgreSQL re-checks them on the row an
    adding transaction committed while this DELETE waited for its lock."""
    if not media_ids:
        return []
    rows = await session.execute(
        delete(Media)
        .where(
            Media.id.in_(media_ids),
            Media.message_id.is_(None),
            Media.album_holds == 0,
            Media.approval_holds == 0,
        )
        .returning(Media.id)
    )
    return list(rows.scalars())


async def delete_media_txn(session: AsyncSession, media_ids: list[str]) -> None:
    if media_ids:
        await session.execute(delete(Media).where(Media.id.in_(media_ids)))


async def media_by_ids(session: AsyncSession, media_ids: list[str]) -> list[Media]:
    if not media_ids:
        return []
    rows = await session.execute(select(Media).where(Media.id.in_(media_ids)))
    return list(rows.scalars())


async def change_album_holds_txn(session: AsyncSession, media_id: str, by: int) -> None:
    await session.execute(
        update(Media).where(Media.id == media_id).values(album_holds=Media.album_holds + by)
    )


async def change_approval_holds_txn(session: AsyncSession, media_id: str, by: int) -> None:
    await session.execute(
        update(Media).where(Media.id == media_id).values(approval_holds=Media.approval_holds + by)
    )


async def recent_upload_times(
    session: AsyncSession, owner_id: str, since: datetime, limit: int
) -> list[datetime]:
    """When this person's newest ``limit`` uploads after ``since`` were made, newest first."""
    rows = await session.execute(
        select(Media.created_at)
        .where(Media.owner_id == owner_id, Media.created_at > since)
        .order_by(Media.created_at.desc())
        .limit(limit)
    )
    return list(rows.scalars())
