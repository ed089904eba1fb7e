"""SQL for DINGs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.core.db import Database
from knock.features.accounts.models import User
from knock.features.ding.models import Ding, DingRecipient, DingSend, DingSettings, DingStep
from knock.features.messages.models import Message
from knock.features.orgs.models import Org, OrgMember


async def settings_of(session: AsyncSession, org_id: str) -> DingSettings | None:
    return (
        await session.execute(
            select(DingSettings)
            .where(DingSettings.org_id == org_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def save_settings_txn(session: AsyncSession, row: DingSettings) -> None:
    session.add(row)
    await session.flush()


async def lock_sender_txn(session: AsyncSession, sender_id: str) -> None:
    """Queue one sender's DINGs behind each other (PostgreSQL: the user row, without the
    key lock that foreign keys take; SQLite writers queue anyway), so the hourly count
    holds when two nodes take DINGs from one person at once."""
    await session.execute(
        select(User.id).where(User.id == sender_id).with_for_update(key_share=True)
    )


async def sends_since(
    session: AsyncSession, sender_id: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many DINGs and re-DINGs the sender made since then, and the oldest of them."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(DingSend.created_at)).where(
                DingSend.sender_id == sender_id, DingSend.created_at > since
            )
        )
    ).one()
    return int(count), oldest


async def insert_send_txn(session: AsyncSession, send: DingSend) -> None:
    session.add(send)
    await session.flush()


async def prune_sends_txn(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(DingSend).where(DingSend.created_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


async def ding_by_client_id(
    session: AsyncSession, sender_id: str, client_ding_id: str
) -> Ding | None:
    return (
        await session.execute(
            select(Ding).where(Ding.sender_id == sender_id, Ding.client_ding_id == client_ding_id)
        )
    ).scalar_one_or_none()


async def ding_by_id(session: AsyncSession, ding_id: str) -> Ding | None:
    return (
        await session.execute(
            select(Ding).where(Ding.id == ding_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def insert_ding_txn(
    session: AsyncSession, ding: Ding, recipients: list[DingRecipient]
) -> None:
    session.add(ding)
    await session.flush()
    session.add_all(recipients)
    await session.flush()


async def recipients_of(
    session: AsyncSession, ding_ids: list[str], user_id: str | None = None
) -> list[DingRecipient]:
    """The recipients of these DINGs (only ``user_id``'s entries if given), by user id."""
    if not ding_ids:
        return []
    query = select(DingRecipient).where(DingRecipient.ding_id.in_(ding_ids))
    if user_id is not None:
        query = query.where(DingRecipient.user_id == user_id)
    rows = await session.execute(
        query.order_by(DingRecipient.ding_id, DingRecipient.user_id).execution_options(
            populate_existing=True
        )
    )
    return list(rows.scalars())


async def lock_recipient_txn(
    session: AsyncSession, ding_id: str, user_id: str
) -> DingRecipient | None:
    return (
        await session.execute(
            select(DingRecipient)
            .where(DingRecipient.ding_id == ding_id, DingRecipient.user_id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lock_recipients_txn(session: AsyncSession, ding_id: str) -> list[DingRecipient]:
    rows = await session.execute(
        select(DingRecipient)
        .where(DingRecipient.ding_id == ding_id)
        .order_by(DingRecipient.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def members_among(session: AsyncSession, org_id: str, user_ids: list[str]) -> set[str]:
    if not user_ids:
        return set()
    rows = await session.execute(
        select(OrgMember.user_id).where(OrgMember.org_id == org_id, OrgMember.user_id.in_(user_ids))
    )
    return set(rows.scalars())


async def dings_page(
    session: AsyncSession,
    org_id: str,
    user_id: str,
    box: str,
    unconfirmed: bool | None,
    before: str | None,
    limit: int,
) -> list[Ding]:
    """Newest first: DINGs the user received (box "received") or sent, in one org.
    ``unconfirmed`` true: received ones they have not confirmed, sent ones someone has not
    confirmed; false: the others."""
    query = select(Ding).where(Ding.org_id == org_id)
    if box == "received":
        query = query.join(
            DingRecipient,
            (DingRecipient.ding_id == Ding.id) & (DingRecipient.user_id == user_id),
        )
        if unconfirmed is not None:
            query = query.where(
                DingRecipient.confirmed_at.is_(None)
                if unconfirmed
                else DingRecipient.confirmed_at.is_not(None)
            )
    else:
        query = query.where(Ding.sender_id == user_id)
        if unconfirmed is not None:
            waiting = (
                select(DingRecipient.ding_id)
                .where(DingRecipient.ding_id == Ding.id, DingRecipient.confirmed_at.is_(None))
                .exists()
            )
            query = query.where(waiting if unconfirmed else ~waiting)
    if before is not None:
        query = query.where(Ding.id < before)
    rows = await session.execute(query.order_by(Ding.id.desc()).limit(limit))
    return list(rows.scalars())


async def any_due(db: Database, now: datetime) -> bool:
    """Whether ``due_recipients`` would find any: one plain statement, as every node asks
    every second (``KNOCK_DING_POLL_S``) and nearly always hears no."""
    at = db.time(now)
    row = await db.read_one(
        "SELECT 1 FROM ding_recipients WHERE next_step_at <= ? AND next_step IS NOT NULL"
        " AND confirmed_at IS NULL AND (lease_until IS NULL OR lease_until < ?) LIMIT 1",
        at,
        at,
    )
    return row is not None


async def due_recipients(session: AsyncSession, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(ding id, user id) of unconfirmed recipients whose next step is due and not leased."""
    rows = await session.execute(
        select(DingRecipient.ding_id, DingRecipient.user_id)
        .where(
            DingRecipient.next_step_at <= now,
            DingRecipient.next_step.is_not(None),
            DingRecipient.confirmed_at.is_(None),
            (DingRecipient.lease_until.is_(None)) | (DingRecipient.lease_until < now),
        )
        # One order on every node: claims lock rows in it, so they never deadlock.
        .order_by(DingRecipient.next_step_at, DingRecipient.ding_id, DingRecipient.user_id)
        .limit(limit)
    )
    return [(ding_id, user_id) for ding_id, user_id in rows]


async def claim_txn(
    session: AsyncSession,
    ding_id: str,
    user_id: str,
    owner: str,
    now: datetime,
    lease_until: datetime,
) -> bool:
    """Compare-and-set: lease the recipient's due step to ``owner`` unless someone else
    holds it or it is no longer due. True if this call got it."""
    result = await session.execute(
        update(DingRecipient)
        .where(
            DingRecipient.ding_id == ding_id,
            DingRecipient.user_id == user_id,
            DingRecipient.next_step_at <= now,
            DingRecipient.next_step.is_not(None),
            DingRecipient.confirmed_at.is_(None),
            (DingRecipient.lease_until.is_(None)) | (DingRecipient.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def insert_step_txn(session: AsyncSession, step: DingStep) -> None:
    session.add(step)
    await session.flush()


async def steps_of(session: AsyncSession, ding_id: str) -> list[DingStep]:
    rows = await session.execute(
        select(DingStep).where(DingStep.ding_id == ding_id).order_by(DingStep.id)
    )
    return list(rows.scalars())


async def message_text(session: AsyncSession, message_id: str) -> str | None:
    """A message's text for a DING step; None once it is recalled or burn-after-reading."""
    row = (
        await session.execute(
            select(Message.text, Message.recalled, Message.burn_after_s).where(
                Message.id == message_id
            )
        )
    ).one_or_none()
    if row is None or row.recalled or row.burn_after_s is not None:
        return None
    return str(row.text)


async def org_name(session: AsyncSession, org_id: str) -> str:
    name = (await session.execute(select(Org.name).where(Org.id == org_id))).scalar_one_or_none()
    return name or ""
