"""Deletes uploads that no message took within ``KNOCK_MEDIA_UNSENT_TTL_S``, so abandoned
uploads do not fill the disk. Any node may run it: deletes are idempotent."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from knock.features.media.actions import MediaLibrary

log = logging.getLogger(__name__)


class UnsentMediaSweeper:
    def __init__(self, media: MediaLibrary, interval_s: float = 300.0) -> None:
        self._media = media
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="knock-media-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                purged = await self._media.do_purge_unsent()
                if purged:
                    log.info("deleted %d uploads that were never sent", purged)
            except Exception:
                log.exception("sweeping unsent uploads failed; trying again later")
            await asyncio.sleep(self._interval_s)
