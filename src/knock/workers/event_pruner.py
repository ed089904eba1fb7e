"""Forgets events older than the retention, so the log stays small; resume then answers
``resync_required`` for cursors from before it. Deletes are idempotent: any node may run it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from knock.core.clock import utcnow
from knock.core.db import Database
from knock.realtime.eventlog import prune_events_txn
from knock.realtime.models import StoredEventRow
from knock.workers.periodic import PeriodicJob


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


def event_pruner(db: Database, retention_s: int, interval_s: float = 300.0) -> PeriodicJob:
    return PeriodicJob(
        "event-pruner",
        interval_s,
        lambda: prune_expired_events(db, retention_s),
        "pruned %d events past the retention",
    )
