"""SQL for burn-after-reading."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.burn.models import BurnMessage, BurnReader
from knock.features.conversations.models import ConversationMember


async def insert_burn_txn(session: AsyncSession, burn: BurnMessage) -> None:
    session.add(burn)
    await session.flush()


async def burns_by_id(session: AsyncSession, message_ids: list[str]) -> list[BurnMessage]:
    if not message_ids:
        return []
    rows = await session.execute(
        select(BurnMessage)
        .where(BurnMessage.message_id.in_(message_ids))
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def readings_of(
    session: AsyncSession, user_id: str, message_ids: list[str]
) -> list[BurnReader]:
    if not message_ids:
        return []
    rows = await session.execute(
        select(BurnReader)
        .where(BurnReader.user_id == user_id, BurnReader.message_id.in_(message_ids))
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def insert_reading_txn(session: AsyncSession, reading: BurnReader) -> None:
    session.add(reading)
    await session.flush()


async def due_for_purge(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Unburned messages past their hard limit, or whose every recipient's timer has run
    out. Recipients: the members, other than the sender, who had joined by the time it was
    sent (someone who joins later does not hold the burn back)."""
    unread_recipient = exists().where(
        ConversationMember.conversation_id == BurnMessage.conversation_id,
        ConversationMember.user_id != BurnMessage.sender_id,
        ConversationMember.joined_at <= BurnMessage.created_at,
        not_(
            exists().where(
                BurnReader.message_id == BurnMessage.message_id,
                BurnReader.user_id == ConversationMember.user_id,
                BurnReader.expires_at <= now,
            )
        ),
    )
    rows = await session.execute(
        select(BurnMessage.message_id)
        .where(
            BurnMessage.burned_at.is_(None),
            or_(BurnMessage.hard_expires_at <= now, not_(unread_recipient)),
        )
        .limit(limit)
    )
    return list(rows.scalars())


async def lock_burn_txn(session: AsyncSession, message_id: str) -> BurnMessage | None:
    return (
        await session.execute(
            select(BurnMessage)
            .where(BurnMessage.message_id == message_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def mark_burned_txn(session: AsyncSession, message_id: str, now: datetime) -> None:
    await session.execute(delete(BurnReader).where(BurnReader.message_id == message_id))
    await session.execute(
        update(BurnMessage).where(BurnMessage.message_id == message_id).values(burned_at=now)
    )
