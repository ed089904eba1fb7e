"""Purges burn-after-reading messages within ``KNOCK_BURN_PURGE_INTERVAL_S`` (plus the
purge's own time) of the moment they burn for everyone. Any node may run it: a message is
purged under its row lock and only once."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from knock.core.db import Database
from knock.features.burn.purge import checkpoint_sqlite, purge_expired_burn_messages
from knock.features.media.actions import MediaLibrary

log = logging.getLogger(__name__)


class BurnPurger:
    def __init__(self, db: Database, media: MediaLibrary, interval_s: float) -> None:
        self._db = db
        self._media = media
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        # A purge whose WAL checkpoint was blocked: the old pages may still be in the WAL.
        self._wal_dirty = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="knock-burn-purger")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                purged = await purge_expired_burn_messages(self._db, self._media)
                if purged:
                    log.info("purged %d burn-after-reading messages", purged)
                if self._db.is_sqlite and (purged or self._wal_dirty):
                    self._wal_dirty = not await checkpoint_sqlite(self._db)
            except Exception:
                log.exception("burn purge failed; trying again shortly")
            await asyncio.sleep(self._interval_s)
