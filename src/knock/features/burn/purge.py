"""Physically purging burn-after-reading messages once they have burned for everyone.

For each due message: its media files and thumbnails are deleted first (idempotent, so a
crash before the commit only repeats it), then one transaction blanks the message row,
drops its media rows and readers' timers, rewrites the frames of its earlier events to the
burned placeholder and emits ``message.burned``. On SQLite the WAL is then checkpointed
and truncated, so no old page with the text stays in it (``secure_delete`` zeroes freed
space in the main file).
"""

from __future__ import annotations

import logging

import orjson

from knock.core.clock import utcnow
from knock.core.db import Database
from knock.core.events import Audience
from knock.features.burn import repository as repo
from knock.features.burn.actions import BurnState
from knock.features.burn.events import MessageBurned
from knock.features.media.actions import MediaLibrary, detach_media_txn, stored_keys_of
from knock.features.messages.actions import burn_message_content_txn
from knock.realtime.eventlog import rewrite_message_frames_txn

log = logging.getLogger(__name__)

BATCH = 100


async def purge_expired_burn_messages(db: Database, media: MediaLibrary) -> int:
    """Purge every burn message that is due now; returns how many were purged."""
    purged = 0
    while True:
        async with db.read() as session:
            due = await repo.due_for_purge(session, utcnow(), BATCH)
        for message_id in due:
            purged += await _purge_one(db, media, message_id)
        if len(due) < BATCH:
            break
    if purged and db.is_sqlite:
        await checkpoint_sqlite(db)
    return purged


async def _purge_one(db: Database, media: MediaLibrary, message_id: str) -> int:
    async with db.read() as session:
        keys = await stored_keys_of(session, [message_id])
    await media.delete_files(keys)
    async with db.transaction() as txn:
        session = txn.session
        burn = await repo.lock_burn_txn(session, message_id)
        if burn is None or burn.burned_at is not None:
            return 0
        placeholder = await burn_message_content_txn(
            session, message_id, BurnState(burn.burn_after_s, sealed=True, burned=True)
        )
        late_keys = await detach_media_txn(session, [message_id])
        await repo.mark_burned_txn(session, message_id, utcnow())
        if placeholder is not None:
            await rewrite_message_frames_txn(
                session,
                burn.conversation_id,
                message_id,
                orjson.loads(placeholder.model_dump_json()),
                after_event_id=burn.first_event_id,
            )
        txn.emit(
            MessageBurned(conversation_id=burn.conversation_id, message_id=message_id),
            Audience(conversation_id=burn.conversation_id),
        )
    # Attached between our read and the lock (cannot happen today): delete those too.
    await media.delete_files(k for k in late_keys if k not in keys)
    return 1


async def checkpoint_sqlite(db: Database) -> bool:
    """Copy the WAL into the main file and truncate it to zero bytes; False when a reader
    kept it from finishing (the caller tries again later)."""
    async with db.write_engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = await cursor.fetchone()
        await cursor.close()
        if row is not None and row[0]:
            log.warning("the WAL checkpoint after a purge was blocked by a reader; will retry")
            return False
        return True
