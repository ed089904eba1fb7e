"""Purges burn-after-reading messages within ``KNOCK_BURN_PURGE_INTERVAL_S`` (plus the
purge's own time) of the moment they burn for everyone. Any node may run it: a message is
purged under its row lock and only once."""

from __future__ import annotations

from knock.core.db import Database
from knock.features.burn.purge import checkpoint_sqlite, purge_expired_burn_messages
from knock.features.media.actions import MediaLibrary
from knock.workers.periodic import PeriodicJob


class BurnPurge:
    """One purge pass; on SQLite it then checkpoints the WAL so purged pages leave it."""

    def __init__(self, db: Database, media: MediaLibrary) -> None:
        self._db = db
        self._media = media
        # A purge whose WAL checkpoint was blocked: the old pages may still be in the WAL.
        self._wal_dirty = False

    async def run_once(self) -> int:
        purged = await purge_expired_burn_messages(self._db, self._media)
        if self._db.is_sqlite and (purged or self._wal_dirty):
            self._wal_dirty = not await checkpoint_sqlite(self._db)
        return purged


def burn_purger(db: Database, media: MediaLibrary, interval_s: float) -> PeriodicJob:
    return PeriodicJob(
        "burn-purger",
        interval_s,
        BurnPurge(db, media).run_once,
        "purged %d burn-after-reading messages",
    )
