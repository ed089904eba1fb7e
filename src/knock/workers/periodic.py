"""Background jobs: one pass of a job every interval, on every node (each pass is safe to run
on several nodes at once), surviving and logging its failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from knock.core.shielded import to_the_end

log = logging.getLogger(__name__)


async def flush_when_poked(
    poked: asyncio.Event, interval_s: float, flush: Callable[[], Awaitable[object]], what: str
) -> None:
    """Forever: wait for a poke, let ``interval_s`` pass (later pokes join that flush), then
    flush. No timer runs while nothing pokes it, so an idle node does not wake up for it.
    A failed flush is logged and tried again an interval later. Cancelled during a flush, it
    lets that flush end first: a flush cut off between its commit and its send would be
    sent again by the next one."""
    while True:
        await poked.wait()
        await asyncio.sleep(interval_s)
        poked.clear()
        try:
            await to_the_end(asyncio.ensure_future(flush()))
        except Exception:
            log.exception("%s failed; trying again in %s s", what, interval_s)
            poked.set()


class PeriodicJob:
    def __init__(
        self, name: str, interval_s: float, run_once: Callable[[], Awaitable[int]], did: str
    ) -> None:
        """``run_once`` returns how many things it handled; ``did`` logs them ("pruned %d
        events")."""
        self.name = name
        self._interval_s = interval_s
        self._run_once = run_once
        self._did = did
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"knock-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                handled = await self._run_once()
                if handled:
                    log.info(self._did, handled)
            except Exception:
                log.exception("%s failed; trying again in %s s", self.name, self._interval_s)
            await asyncio.sleep(self._interval_s)
