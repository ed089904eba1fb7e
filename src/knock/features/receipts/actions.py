"""Receipts: members' read cursors, who has read a message, and coalesced receipt events.

A read cursor is committed at once. Its ``receipt.updated`` event goes through this node's
coalescer, which every ``receipt_coalesce_ms`` sends one event per conversation for all the
cursors that moved there: a thousand members reading at once cost a handful of frames, not
a million. The cost is that a receipt event of a node that crashes inside the interval is
lost; the cursors themselves are not (clients refetch them).
"""

from __future__ import annotations

import asyncio
import contextlib

from knock.config import Settings
from knock.core.db import Database, Transaction
from knock.core.errors import NotFound
from knock.core.events import Audience
from knock.core.ids import ID_LENGTH
from knock.features.conversations.actions import (
    access_conversation,
    advance_read_seq_txn,
    member_read_seqs,
)
from knock.features.messages.actions import access_message, senders_between
from knock.features.orgs.actions import access_org, is_admin
from knock.features.receipts.events import ReceiptUpdated
from knock.features.receipts.schemas import MessageReceiptsOut, ReceiptRange
from knock.workers.periodic import flush_when_poked

# conversation id -> user id -> (from_seq, up_to_seq)
ReadBatch = dict[str, dict[str, tuple[int, int]]]


def merge_read(batch: ReadBatch, conversation_id: str, user_id: str, low: int, high: int) -> None:
    ranges = batch.setdefault(conversation_id, {})
    if user_id in ranges:
        old_low, old_high = ranges[user_id]
        low, high = min(low, old_low), max(high, old_high)
    ranges[user_id] = (low, high)


async def emit_receipts_txn(txn: Transaction, batch: ReadBatch) -> None:
    """One receipt.updated per conversation, to its readers and the senders of what they
    read (found in one query for the whole batch)."""
    spans = [
        (cid, min(low for low, _ in ranges.values()), max(high for _, high in ranges.values()))
        for cid, ranges in batch.items()
    ]
    senders = await senders_between(txn.session, spans)
    for conversation_id, ranges in batch.items():
        receipts = [
            ReceiptRange(user_id=user_id, from_seq=low, up_to_seq=high)
            for user_id, (low, high) in sorted(ranges.items())
        ]
        audience = sorted(set(ranges) | senders.get(conversation_id, set()))
        txn.emit(
            ReceiptUpdated(conversation_id=conversation_id, receipts=receipts),
            Audience(user_ids=tuple(audience)),
        )


class ReceiptCoalescer:
    """Collects committed read-cursor moves and sends them as events every interval."""

    def __init__(self, db: Database, interval_ms: int) -> None:
        self._db = db
        self._interval_s = interval_ms / 1000
        self._pending: ReadBatch = {}
        self._added = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, conversation_id: str, user_id: str, from_seq: int, up_to_seq: int) -> None:
        merge_read(self._pending, conversation_id, user_id, from_seq, up_to_seq)
        self._added.set()

    async def start(self) -> None:
        # At 0 ms receipts are sent in the reading transaction; a timer of 0 would spin.
        if self._task is None and self._interval_s > 0:
            self._task = asyncio.create_task(
                flush_when_poked(self._added, self._interval_s, self.flush, "sending receipts"),
                name="receipt-coalescer",
            )

    async def stop(self) -> None:
        """Stop the timer and send what is still pending."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, {}
        if not batch:
            return
        try:
            async with self._db.transaction() as txn:
                await emit_receipts_txn(txn, batch)
        except BaseException:
            # Nothing was sent: keep the moves for the next try.
            for conversation_id, ranges in batch.items():
                for user_id, (low, high) in ranges.items():
                    merge_read(self._pending, conversation_id, user_id, low, high)
            raise


class Receipts:
    def __init__(self, db: Database, settings: Settings, coalescer: ReceiptCoalescer) -> None:
        self._db = db
        self._immediate = settings.receipt_coalesce_ms == 0
        self._coalescer = coalescer

    async def do_mark_read(self, user_id: str, conversation_id: str, up_to_seq: int) -> None:
        """Move the caller's read cursor forward, to at most the conversation's last_seq."""
        moved: tuple[int, int] | None = None
        if not self._immediate and self._db.has_raw:
            moved = await self._mark_read_plain(user_id, conversation_id, up_to_seq)
            if moved is not None:
                self._coalescer.add(conversation_id, user_id, *moved)
            return
        async with self._db.transaction() as txn:
            conversation, member = await access_conversation(txn.session, user_id, conversation_id)
            target, from_seq = min(up_to_seq, conversation.last_seq), member.read_seq
            if target > from_seq and await advance_read_seq_txn(
                txn.session, conversation_id, user_id, target
            ):
                moved = (from_seq, target)
                if self._immediate:
                    await emit_receipts_txn(txn, {conversation_id: {user_id: moved}})
        if moved is not None and not self._immediate:
            self._coalescer.add(conversation_id, user_id, *moved)

    async def _mark_read_plain(
        self, user_id: str, conversation_id: str, up_to_seq: int
    ) -> tuple[int, int] | None:
        """``do_mark_read`` in two plain SQL statements (a read cursor moves every time a
        conversation is opened, a thousand at once in a big group): the move, if any."""
        if len(conversation_id) > ID_LENGTH:
            raise NotFound()
        async with self._db.raw_transaction() as txn:
            found = await txn.one(
                "SELECT c.last_seq, m.read_seq FROM conversations c"
                " JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = ?"
                " WHERE c.id = ?",
                user_id,
                conversation_id,
            )
            if found is None:
                raise NotFound()
            target, from_seq = min(up_to_seq, int(found[0])), int(found[1])
            if target > from_seq and await txn.run(
                "UPDATE conversation_members SET read_seq = ?"
                " WHERE conversation_id = ? AND user_id = ? AND read_seq < ?",
                target,
                conversation_id,
                user_id,
                target,
            ):
                return from_seq, target
        return None

    async def message_receipts(self, user_id: str, message_id: str) -> MessageReceiptsOut:
        """Who of the other members has read the message. Its sender or a team admin."""
        async with self._db.read() as session:
            message, conversation, _ = await access_message(session, user_id, message_id)
            if message.sender_id != user_id:
                org_member = await access_org(session, user_id, conversation.org_id)
                if not is_admin(org_member):
                    raise NotFound()
            read_seqs = await member_read_seqs(session, conversation.id, message.sender_id)
        read = [u for u, seq in read_seqs if seq >= message.seq]
        unread = [u for u, seq in read_seqs if seq < message.seq]
        return MessageReceiptsOut(
            read=read, unread=unread, read_count=len(read), unread_count=len(unread)
        )
