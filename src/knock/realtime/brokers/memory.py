"""The one-node broker: publish hands the envelope to this process's subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

_CLOSED = b""


class MemoryBroker:
    def __init__(self, max_backlog: int = 100_000) -> None:
        self._subscribers: list[asyncio.Queue[bytes]] = []
        self._max_backlog = max_backlog

    async def start(self) -> None:
        return None

    async def publish(self, envelope: bytes) -> None:
        for queue in self._subscribers:
            if queue.qsize() < self._max_backlog:
                queue.put_nowait(envelope)
            # else: dropped, as the at-most-once guarantee allows; the pump refills from the DB.

    async def subscribe(self) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            while True:
                envelope = await queue.get()
                if envelope is _CLOSED:
                    return
                yield envelope
        finally:
            self._subscribers.remove(queue)

    async def close(self) -> None:
        for queue in self._subscribers:
            queue.put_nowait(_CLOSED)
