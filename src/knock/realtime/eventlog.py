"""The event log: stores events with gapless ids in commit order, publishes after commit.

Ids come from bumping the single ``event_counter`` row inside the writing transaction. The
row lock is held until commit, so ids are assigned in commit order and a rolled-back
transaction gives its ids back: an id N+1 that a node has seen proves id N is committed.
That is what lets every node deliver events in order and fill gaps from the database.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import and_, delete, insert, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.core.clock import utcnow
from knock.core.db import Database, RawTransaction
from knock.core.events import Audience, PendingEvent, StoredEvent, encode_frame
from knock.features.conversations.models import ConversationMember
from knock.features.orgs.models import OrgMember
from knock.realtime.broker import Broker
from knock.realtime.models import EventCounter, EventRecipient, StoredEventRow

COUNTER_ROW_ID = 1


def encode_envelope(event: StoredEvent) -> bytes:
    """Header line (id, type, audience) for the nodes, then the client frame as is."""
    aud = event.audience
    header = orjson.dumps(
        {
            "i": event.id,
            "t": event.type,
            "c": aud.conversation_id,
            "o": aud.org_id,
            "u": aud.user_ids,
        }
    )
    return header + b"\n" + event.frame


def decode_envelope(envelope: bytes) -> StoredEvent:
    header_bytes, _, frame = envelope.partition(b"\n")
    header = orjson.loads(header_bytes)
    return StoredEvent(
        id=int(header["i"]),
        type=str(header["t"]),
        frame=frame,
        audience=Audience(
            conversation_id=header["c"], org_id=header["o"], user_ids=tuple(header["u"])
        ),
    )


def _number(pending: list[PendingEvent], last_id: int) -> list[StoredEvent]:
    """The pending events with their ids (the last one is ``last_id``) and frames."""
    first_id = last_id - len(pending) + 1
    return [
        StoredEvent(
            first_id + offset,
            item.event.type,
            encode_frame(first_id + offset, item.event),
            item.audience,
        )
        for offset, item in enumerate(pending)
    ]


class EventLog:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    async def append_txn(
        self, session: AsyncSession, pending: list[PendingEvent]
    ) -> list[StoredEvent]:
        # Last statement before commit: the counter row lock is held for as short as we can.
        last_id = (
            await session.execute(
                update(EventCounter)
                .where(EventCounter.id == COUNTER_ROW_ID)
                .values(last_id=EventCounter.last_id + len(pending))
                .returning(EventCounter.last_id)
            )
        ).scalar_one()
        stored = _number(pending, last_id)
        now = utcnow()
        await session.execute(
            insert(StoredEventRow),
            [
                {
                    "id": event.id,
                    "type": event.type,
                    "conversation_id": event.audience.conversation_id,
                    "org_id": event.audience.org_id,
                    "created_at": now,
                    "frame": event.frame,
                }
                for event in stored
            ],
        )
        recipients = [
            {"event_id": event.id, "user_id": u}
            for event in stored
            for u in event.audience.user_ids
        ]
        if recipients:
            await session.execute(insert(EventRecipient), recipients)
        return stored

    async def append_raw(
        self, txn: RawTransaction, pending: list[PendingEvent]
    ) -> list[StoredEvent]:
        """``append_txn`` in plain SQL, for ``Database.raw_transaction``."""
        found = await txn.one(
            "UPDATE event_counter SET last_id = last_id + ? WHERE id = ? RETURNING last_id",
            len(pending),
            COUNTER_ROW_ID,
        )
        assert found is not None
        stored = _number(pending, int(found[0]))
        now = txn.time(utcnow())
        await txn.many(
            "INSERT INTO events (id, type, conversation_id, org_id, created_at, frame)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (e.id, e.type, e.audience.conversation_id, e.audience.org_id, now, e.frame)
                for e in stored
            ],
        )
        recipients = [(e.id, u) for e in stored for u in e.audience.user_ids]
        if recipients:
            await txn.many(
                "INSERT INTO event_recipients (event_id, user_id) VALUES (?, ?)", recipients
            )
        return stored

    async def publish(self, stored: list[StoredEvent]) -> None:
        for event in stored:
            await self._broker.publish(encode_envelope(event))


async def log_head(db: Database) -> int:
    """The last committed event id, read without a session (the pump polls it each second)."""
    row = await db.read_one("SELECT last_id FROM event_counter WHERE id = ?", COUNTER_ROW_ID)
    assert row is not None, "the event counter row is made by the first migration"
    return int(row[0])


async def last_event_id(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(
                select(EventCounter.last_id).where(EventCounter.id == COUNTER_ROW_ID)
            )
        ).scalar_one()
    )


async def pruned_upto(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(
                select(EventCounter.pruned_upto).where(EventCounter.id == COUNTER_ROW_ID)
            )
        ).scalar_one()
    )


async def events_between(session: AsyncSession, after: int, upto: int) -> list[StoredEvent]:
    """Every event with after < id <= upto, with its audience (for a node filling a gap)."""
    rows = (
        await session.execute(
            select(StoredEventRow)
            .where(StoredEventRow.id > after, StoredEventRow.id <= upto)
            .order_by(StoredEventRow.id)
        )
    ).scalars()
    found = list(rows)
    users: dict[int, list[str]] = {}
    if found:
        recips = await session.execute(
            select(EventRecipient.event_id, EventRecipient.user_id).where(
                EventRecipient.event_id > after, EventRecipient.event_id <= upto
            )
        )
        for event_id, user_id in recips:
            users.setdefault(int(event_id), []).append(user_id)
    return [
        StoredEvent(
            row.id,
            row.type,
            row.frame,
            Audience(row.conversation_id, row.org_id, tuple(users.get(row.id, ()))),
        )
        for row in found
    ]


async def events_for_user(
    session: AsyncSession, user_id: str, after: int, upto: int, limit: int
) -> list[tuple[int, bytes]]:
    """The user's events with after < id <= upto, in order (resume).

    Conversation and org events count only from when the user joined (by the membership
    they hold now): a newcomer resuming an older cursor gets nothing from before they came,
    and someone removed and added back nothing from the time they were out.
    """
    in_range = (StoredEventRow.id > after, StoredEventRow.id <= upto)
    conversations = (
        select(StoredEventRow.id, StoredEventRow.frame)
        .join(
            ConversationMember,
            and_(
                ConversationMember.conversation_id == StoredEventRow.conversation_id,
                ConversationMember.user_id == user_id,
            ),
        )
        .where(*in_range, StoredEventRow.created_at >= ConversationMember.joined_at)
    )
    orgs = (
        select(StoredEventRow.id, StoredEventRow.frame)
        .join(
            OrgMember,
            and_(OrgMember.org_id == StoredEventRow.org_id, OrgMember.user_id == user_id),
        )
        .where(*in_range, StoredEventRow.created_at >= OrgMember.joined_at)
    )
    addressed = (
        select(StoredEventRow.id, StoredEventRow.frame)
        .join(
            EventRecipient,
            and_(EventRecipient.event_id == StoredEventRow.id, EventRecipient.user_id == user_id),
        )
        .where(*in_range)
    )
    mine = union(conversations, orgs, addressed).subquery()
    rows = await session.execute(select(mine.c.id, mine.c.frame).order_by(mine.c.id).limit(limit))
    return [(int(i), bytes(f)) for i, f in rows]


_MESSAGE_EVENT_TYPES = ("message.created", "message.updated")


async def rewrite_message_frames_txn(
    session: AsyncSession,
    conversation_id: str,
    message_id: str,
    replacement: dict[str, object],
    *,
    after_event_id: int = 0,
    since: datetime | None = None,
) -> int:
    """Replace the message inside its earlier frames (a recall, a burn), so a device that
    resumes from before gets what the message is now, never what it was. The frames looked
    at are the conversation's message events after ``after_event_id`` and, if given, created
    ``since``. Returns how many frames changed."""
    query = select(StoredEventRow.id, StoredEventRow.frame).where(
        StoredEventRow.conversation_id == conversation_id,
        StoredEventRow.type.in_(_MESSAGE_EVENT_TYPES),
        StoredEventRow.id > after_event_id,
    )
    if since is not None:
        query = query.where(StoredEventRow.created_at >= since)
    rows = await session.execute(query)
    changed = 0
    for event_id, frame in rows.all():
        decoded = orjson.loads(frame)
        if decoded.get("message", {}).get("id") == message_id:
            decoded["message"] = replacement
            await session.execute(
                update(StoredEventRow)
                .where(StoredEventRow.id == event_id)
                .values(frame=orjson.dumps(decoded))
            )
            changed += 1
    return changed


async def subscriptions_of(session: AsyncSession, user_id: str) -> tuple[list[str], list[str]]:
    """The conversations and orgs a user belongs to now (what their sockets subscribe to)."""
    conversations = await session.execute(
        select(ConversationMember.conversation_id).where(ConversationMember.user_id == user_id)
    )
    orgs = await session.execute(select(OrgMember.org_id).where(OrgMember.user_id == user_id))
    return list(conversations.scalars()), list(orgs.scalars())


async def prune_events_txn(session: AsyncSession, older_than_id: int) -> int:
    """Forget events up to an id; cursors before it then get ``resync_required``."""
    await session.execute(delete(EventRecipient).where(EventRecipient.event_id <= older_than_id))
    result = await session.execute(delete(StoredEventRow).where(StoredEventRow.id <= older_than_id))
    await session.execute(
        update(EventCounter)
        .where(EventCounter.id == COUNTER_ROW_ID)
        .where(EventCounter.pruned_upto < older_than_id)
        .values(pruned_upto=older_than_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)
