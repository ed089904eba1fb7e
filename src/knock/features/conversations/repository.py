"""SQL for conversations: the conversation rows, their members and read cursors.

Lock order on PostgreSQL, everywhere: the conversation row first, then member rows. Sending
bumps ``last_seq`` with an UPDATE (which locks the row) before it touches its member row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.accounts.models import User
from knock.features.conversations.models import Conversation, ConversationMember


async def conversation_with_membership(
    session: AsyncSession, conversation_id: str, user_id: str
) -> tuple[Conversation, ConversationMember] | None:
    row = (
        await session.execute(
            select(Conversation, ConversationMember)
            .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
            .where(Conversation.id == conversation_id, ConversationMember.user_id == user_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def lock_conversation_txn(session: AsyncSession, conversation_id: str) -> Conversation | None:
    """The conversation row, locked until commit (PostgreSQL), re-read from the database."""
    return (
        await session.execute(
            select(Conversation)
            .where(Conversation.id == conversation_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def conversation_by_dm_key(session: AsyncSession, dm_key: str) -> Conversation | None:
    return (
        await session.execute(select(Conversation).where(Conversation.dm_key == dm_key))
    ).scalar_one_or_none()


async def membership(
    session: AsyncSession, conversation_id: str, user_id: str
) -> ConversationMember | None:
    return (
        await session.execute(
            select(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == user_id,
            )
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def members_among(
    session: AsyncSession, conversation_id: str, user_ids: list[str]
) -> set[str]:
    if not user_ids:
        return set()
    rows = await session.execute(
        select(ConversationMember.user_id).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id.in_(user_ids),
        )
    )
    return {row[0] for row in rows}


async def insert_conversation_txn(session: AsyncSession, conversation: Conversation) -> None:
    session.add(conversation)
    await session.flush()


async def insert_members_txn(
    session: AsyncSession,
    conversation_id: str,
    user_roles: list[tuple[str, str]],
    read_seq: int,
    now: datetime,
) -> None:
    """All members in one executemany (fast for thousands)."""
    if not user_roles:
        return
    rows: list[dict[str, Any]] = [
        {
            "conversation_id": conversation_id,
            "user_id": user_id,
            "role": role,
            "read_seq": read_seq,
            "joined_at": now,
        }
        for user_id, role in user_roles
    ]
    await session.execute(insert(ConversationMember), rows)


async def add_to_member_count_txn(
    session: AsyncSession, conversation_ids: list[str], delta: int
) -> None:
    if conversation_ids:
        await session.execute(
            update(Conversation)
            .where(Conversation.id.in_(conversation_ids))
            .values(member_count=Conversation.member_count + delta)
        )


async def set_title_txn(session: AsyncSession, conversation_id: str, title: str) -> None:
    await session.execute(
        update(Conversation).where(Conversation.id == conversation_id).values(title=title)
    )


async def delete_member_txn(session: AsyncSession, conversation_id: str, user_id: str) -> bool:
    result = await session.execute(
        delete(ConversationMember).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id == user_id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def promote_longest_standing_txn(session: AsyncSession, conversation_id: str) -> str | None:
    """Make the earliest-joined member the owner; their id, or None if nobody is left."""
    heir = (
        await session.execute(
            select(ConversationMember.user_id)
            .where(ConversationMember.conversation_id == conversation_id)
            .order_by(ConversationMember.joined_at, ConversationMember.user_id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if heir is not None:
        await session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == heir,
            )
            .values(role="owner")
        )
    return heir


async def conversations_page(
    session: AsyncSession,
    user_id: str,
    org_id: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[Conversation, int]]:
    """The user's conversations, newest activity first, with the user's read_seq."""
    query = (
        select(Conversation, ConversationMember.read_seq)
        .join(
            ConversationMember,
            and_(
                ConversationMember.conversation_id == Conversation.id,
                ConversationMember.user_id == user_id,
            ),
        )
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    if org_id is not None:
        query = query.where(Conversation.org_id == org_id)
    if before is not None:
        moment, conversation_id = before
        query = query.where(
            or_(
                Conversation.last_activity_at < moment,
                and_(Conversation.last_activity_at == moment, Conversation.id < conversation_id),
            )
        )
    return [(row[0], int(row[1])) for row in await session.execute(query)]


async def dm_peers(
    session: AsyncSession, conversation_ids: list[str], user_id: str
) -> dict[str, str]:
    """For each dm, the member who is not the user."""
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(ConversationMember.conversation_id, ConversationMember.user_id).where(
            ConversationMember.conversation_id.in_(conversation_ids),
            ConversationMember.user_id != user_id,
        )
    )
    return {row[0]: row[1] for row in rows}


async def members_page(
    session: AsyncSession, conversation_id: str, after: str | None, limit: int
) -> list[tuple[ConversationMember, str]]:
    query = (
        select(ConversationMember, User.display_name)
        .join(User, User.id == ConversationMember.user_id)
        .where(ConversationMember.conversation_id == conversation_id)
        .order_by(ConversationMember.user_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(ConversationMember.user_id > after)
    return [(row[0], row[1]) for row in await session.execute(query)]


async def memberships_in_org(
    session: AsyncSession, org_id: str, user_id: str
) -> list[tuple[str, str]]:
    """(conversation id, role) of every conversation of the org the user is in."""
    rows = await session.execute(
        select(ConversationMember.conversation_id, ConversationMember.role)
        .join(Conversation, Conversation.id == ConversationMember.conversation_id)
        .where(Conversation.org_id == org_id, ConversationMember.user_id == user_id)
        .order_by(ConversationMember.conversation_id)
    )
    return [(row[0], row[1]) for row in rows]


async def lock_conversations_txn(session: AsyncSession, conversation_ids: list[str]) -> None:
    """Lock several conversation rows in id order (one order everywhere: no deadlock)."""
    if conversation_ids:
        await session.execute(
            select(Conversation.id)
            .where(Conversation.id.in_(conversation_ids))
            .order_by(Conversation.id)
            .with_for_update()
        )


async def delete_memberships_txn(
    session: AsyncSession, conversation_ids: list[str], user_id: str
) -> None:
    if conversation_ids:
        await session.execute(
            delete(ConversationMember).where(
                ConversationMember.conversation_id.in_(conversation_ids),
                ConversationMember.user_id == user_id,
            )
        )


async def next_seq_txn(
    session: AsyncSession, conversation_id: str, now: datetime
) -> tuple[int, int]:
    """Take the next seq (locks the conversation row until commit): (seq, member_count)."""
    row = (
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_seq=Conversation.last_seq + 1, last_activity_at=now)
            .returning(Conversation.last_seq, Conversation.member_count)
        )
    ).one()
    return int(row[0]), int(row[1])


async def advance_read_seq_txn(
    session: AsyncSession, conversation_id: str, user_id: str, up_to_seq: int
) -> bool:
    """Move the member's read cursor forward to up_to_seq; False if it was already there."""
    result = await session.execute(
        update(ConversationMember)
        .where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id == user_id,
            ConversationMember.read_seq < up_to_seq,
        )
        .values(read_seq=up_to_seq)
    )
    return bool(getattr(result, "rowcount", 0))


async def read_seq_histogram(
    session: AsyncSession, conversation_id: str, exclude_user_id: str, below: int
) -> list[tuple[int, int]]:
    """(read_seq, how many members) for members other than one whose read_seq < below."""
    rows = await session.execute(
        select(ConversationMember.read_seq, func.count())
        .where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id != exclude_user_id,
            ConversationMember.read_seq < below,
        )
        .group_by(ConversationMember.read_seq)
    )
    return [(int(row[0]), int(row[1])) for row in rows]


async def unread_by_others_of_last(
    session: AsyncSession, conversation_ids: list[str], user_id: str
) -> dict[str, int]:
    """Per conversation: members other than the user who have not read up to last_seq."""
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(ConversationMember.conversation_id, func.count())
        .join(Conversation, Conversation.id == ConversationMember.conversation_id)
        .where(
            ConversationMember.conversation_id.in_(conversation_ids),
            ConversationMember.user_id != user_id,
            ConversationMember.read_seq < Conversation.last_seq,
        )
        .group_by(ConversationMember.conversation_id)
    )
    return {row[0]: int(row[1]) for row in rows}


async def read_seqs(
    session: AsyncSession, conversation_id: str, exclude_user_id: str
) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(ConversationMember.user_id, ConversationMember.read_seq)
        .where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id != exclude_user_id,
        )
        .order_by(ConversationMember.user_id)
    )
    return [(row[0], int(row[1])) for row in rows]
