"""SQL for messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.conversations.models import Conversation, ConversationMember
from knock.features.messages.models import Message


async def message_by_id(session: AsyncSession, message_id: str) -> Message | None:
    return (
        await session.execute(
            select(Message)
            .where(Message.id == message_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lock_message_txn(session: AsyncSession, message_id: str) -> Message | None:
    """The message row, locked until commit (PostgreSQL), re-read from the database."""
    return (
        await session.execute(
            select(Message)
            .where(Message.id == message_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def message_by_client_id(
    session: AsyncSession, conversation_id: str, sender_id: str, client_msg_id: str
) -> Message | None:
    return (
        await session.execute(
            select(Message).where(
                Message.conversation_id == conversation_id,
                Message.sender_id == sender_id,
                Message.client_msg_id == client_msg_id,
            )
        )
    ).scalar_one_or_none()


async def conversation_for_send(
    session: AsyncSession, conversation_id: str, sender_id: str, client_msg_id: str
) -> tuple[Conversation, ConversationMember, Message | None] | None:
    """The conversation, the sender's membership and the message the sender already sent
    there with this client_msg_id (a retry), in one query; None if not a member."""
    row = (
        await session.execute(
            select(Conversation, ConversationMember, Message)
            .join(
                ConversationMember,
                and_(
                    ConversationMember.conversation_id == Conversation.id,
                    ConversationMember.user_id == sender_id,
                ),
            )
            .outerjoin(
                Message,
                and_(
                    Message.conversation_id == Conversation.id,
                    Message.sender_id == sender_id,
                    Message.client_msg_id == client_msg_id,
                ),
            )
            .where(Conversation.id == conversation_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def insert_message_txn(session: AsyncSession, message: Message) -> None:
    session.add(message)
    await session.flush()


async def messages_page(
    session: AsyncSession,
    conversation_id: str,
    after_seq: int | None,
    before_seq: int | None,
    limit: int,
) -> list[Message]:
    """Up to ``limit`` messages: after after_seq going up, else before before_seq (or the
    newest) going down. Callers sort the result."""
    query = select(Message).where(Message.conversation_id == conversation_id).limit(limit)
    if after_seq is not None:
        return list(
            (
                await session.execute(query.where(Message.seq > after_seq).order_by(Message.seq))
            ).scalars()
        )
    if before_seq is not None:
        query = query.where(Message.seq < before_seq)
    return list((await session.execute(query.order_by(Message.seq.desc()))).scalars())


async def last_messages(session: AsyncSession, conversation_ids: list[str]) -> list[Message]:
    """The message at each conversation's last_seq (seqs are gapless, messages never go)."""
    if not conversation_ids:
        return []
    rows = await session.execute(
        select(Message)
        .join(
            Conversation,
            and_(Conversation.id == Message.conversation_id, Conversation.last_seq == Message.seq),
        )
        .where(Conversation.id.in_(conversation_ids))
    )
    return list(rows.scalars())


async def update_message_txn(
    session: AsyncSession, message: Message, **values: str | bool | datetime
) -> None:
    for name, value in values.items():
        setattr(message, name, value)
    await session.flush()


async def senders_between(
    session: AsyncSession, ranges: list[tuple[str, int, int]]
) -> dict[str, set[str]]:
    """Per conversation, the distinct senders of messages with from_seq < seq <= up_to_seq
    who are still its members (someone who left must not hear of it any more)."""
    if not ranges:
        return {}
    conditions = [
        and_(Message.conversation_id == cid, Message.seq > low, Message.seq <= high)
        for cid, low, high in ranges
    ]
    rows = await session.execute(
        select(Message.conversation_id, Message.sender_id)
        .join(
            ConversationMember,
            and_(
                ConversationMember.conversation_id == Message.conversation_id,
                ConversationMember.user_id == Message.sender_id,
            ),
        )
        .where(or_(*conditions))
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for conversation_id, sender_id in rows:
        found.setdefault(conversation_id, set()).add(sender_id)
    return found
