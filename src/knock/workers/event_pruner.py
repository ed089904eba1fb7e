"""Forgets events older than the retention, so the log stays small; resume then answers
``resync_required`` for cursors from before it. Any node may run it: deletes are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import func, select

from knock.core.clock import utcnow
from knock.core.db import Database
from knock.realtime.eventlog import prune_events_txn
from knock.realtime.models import StoredEventRow

log = logging.getLogger(__name__)


async def prune_expired_events(db: Database, retention_s: int) -> int:
    """Delete the events older than the retention; returns how many went."""
    cutoff = utcnow() - timedelta(seconds=retention_s)
    async with db.read() as session:
        newest_expired = (
            await session.execute(
                select(func.max(StoredEventRow.id)).where(StoredEventRow.created_at < cutoff)
            )
        ).scalar_one_or_none()
    if newest_expired is None:
        return 0
    async with db.transaction() as txn:
        return await prune_events_txn(txn.session, int(newest_expired))


class EventPruner:
    def __init__(self, db: Database, retention_s: int, interval_s: float = 300.0) -> None:
        self._db = db
        self._retention_s = retention_s
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="knock-event-pruner")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                removed = await prune_expired_events(self._db, self._retention_s)
                if removed:
                    log.info("pruned %d events older than %d s", removed, self._retention_s)
            except Exception:
                log.exception("event pruning failed; trying again later")
            await asyncio.sleep(self._interval_s)
