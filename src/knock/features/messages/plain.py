"""Plain text messages (nothing attached, quoted or mentioned: most messages) sent in plain
SQL on the driver's own connection, not through the ORM (core/db.py says why).

Every send locks its conversation's row (gapless seqs in commit order) and, last, the event
counter's row (gapless event ids in commit order) until it commits. On SQLite one writer
holds the database anyway, and these five statements commit in a group with other
writers'. On PostgreSQL they are one call of ``knock_send_text`` (migration 0008),
committed on its own: the locks are held while the server runs it and flushes the commit,
not across a round trip per statement through a busy node's event loop, behind which every
send of the cluster used to queue.

Both answer None, having changed nothing, when the full path must answer instead (a retry
of a client_msg_id; on PostgreSQL also a sender who is not, or no longer, a member).
"""

from __future__ import annotations

from knock.core.clock import utcnow
from knock.core.db import Database
from knock.core.errors import NotFound
from knock.core.events import Audience, StoredEvent, join_frame, split_frame
from knock.features.messages.events import MessageCreated
from knock.features.messages.rows import message_out, new_message
from knock.features.messages.schemas import MessageOut, SendMessageIn


async def send_plain(
    db: Database, user_id: str, conversation_id: str, body: SendMessageIn, digest: str
) -> MessageOut | None:
    if db.is_sqlite:
        return await _send_plain_sqlite(db, user_id, conversation_id, body, digest)
    return await _send_plain_postgres(db, user_id, conversation_id, body, digest)


async def _send_plain_postgres(
    db: Database, user_id: str, conversation_id: str, body: SendMessageIn, digest: str
) -> MessageOut | None:
    now = utcnow()
    message = new_message(conversation_id, 0, user_id, body, digest, [], now)
    before, after = split_frame(MessageCreated(message=message_out(message)), "seq")
    sent = await db.call(
        "SELECT * FROM knock_send_text(?, ?, ?, ?, ?, ?, ?, ?, ?)",
        conversation_id,
        user_id,
        body.client_msg_id,
        message.id,
        digest,
        body.text,
        db.time(now),
        before,
        after,
    )
    if sent is None:
        return None
    message.seq, member_count, event_id = int(sent[0]), int(sent[1]), int(sent[2])
    frame = join_frame(event_id, before, message.seq, after)
    await db.publish(
        [StoredEvent(event_id, "message.created", frame, Audience(conversation_id=conversation_id))]
    )
    return message_out(message, member_count - 1)


async def _send_plain_sqlite(
    db: Database, user_id: str, conversation_id: str, body: SendMessageIn, digest: str
) -> MessageOut | None:
    async with db.raw_transaction() as txn:
        found = await txn.one(
            "SELECT x.id FROM conversations c"
            " JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = ?"
            " LEFT JOIN messages x ON x.conversation_id = c.id AND x.sender_id = ?"
            " AND x.client_msg_id = ? WHERE c.id = ?",
            user_id,
            user_id,
            body.client_msg_id,
            conversation_id,
        )
        if found is None:
            raise NotFound()
        if found[0] is not None:
            return None
        now = utcnow()
        at = txn.time(now)
        # Locks the conversation row: sends to one conversation queue here, so seqs are
        # gapless and in commit order.
        taken = await txn.one(
            "UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = ?"
            " WHERE id = ? RETURNING last_seq, member_count",
            at,
            conversation_id,
        )
        assert taken is not None
        seq, member_count = int(taken[0]), int(taken[1])
        message = new_message(conversation_id, seq, user_id, body, digest, [], now)
        await txn.run(
            "INSERT INTO messages (id, conversation_id, seq, sender_id, client_msg_id,"
            " request_hash, type, text, reply_to_id, mentions, created_at, edited_at,"
            " recalled, burn_after_s, approval_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, '[]', ?, NULL, ?, NULL, NULL)",
            message.id,
            conversation_id,
            seq,
            user_id,
            body.client_msg_id,
            digest,
            body.type,
            body.text,
            at,
            False,
        )
        # The sender has read their own message. No row: they were removed meanwhile.
        moved = await txn.run(
            "UPDATE conversation_members SET read_seq = ?"
            " WHERE conversation_id = ? AND user_id = ? AND read_seq < ?",
            seq,
            conversation_id,
            user_id,
            seq,
        )
        if not moved:
            raise NotFound()
        txn.emit(
            MessageCreated(message=message_out(message)),
            Audience(conversation_id=conversation_id),
        )
    return message_out(message, member_count - 1)
