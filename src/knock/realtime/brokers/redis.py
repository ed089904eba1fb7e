"""The multi-node broker: Redis pub/sub on one channel per deployment prefix."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import redis.asyncio as redis

log = logging.getLogger(__name__)


class RedisBroker:
    def __init__(self, url: str, prefix: str) -> None:
        self._url = url
        self._channel = f"{prefix}:events"
        self._client: redis.Redis | None = None
        self._closed = asyncio.Event()

    async def start(self) -> None:
        self._client = redis.Redis.from_url(self._url)
        await self._client.ping()

    async def publish(self, envelope: bytes) -> None:
        assert self._client is not None, "start() first"
        await self._client.publish(self._channel, envelope)

    async def subscribe(self) -> AsyncIterator[bytes]:
        assert self._client is not None, "start() first"
        while not self._closed.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                while not self._closed.is_set():
                    message = await pubsub.get_message(timeout=0.5)
                    if message is not None and isinstance(message.get("data"), bytes):
                        yield message["data"]
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                # At most once: what is published while we reconnect is missed here and
                # refilled by the event pump from the database.
                log.warning("redis subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        self._closed.set()
        if self._client is not None:
            await self._client.aclose()
