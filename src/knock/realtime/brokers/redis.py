"""The multi-node broker: Redis pub/sub on one channel per deployment prefix.

Publishing is on a connection of its own with Redis's replies turned off (``CLIENT REPLY
OFF``): a PUBLISH is then one write to a socket, with no reply to wait for, read and parse.
An awaited PUBLISH cost a send about 60 µs of CPU and a round trip before the client was
answered; the write costs about 15 (bench/RESULTS.md, session 8). What Redis does not get
(the connection broke, Redis is down) is missed, as the broker contract allows: each node's
event pump polls the event log every second and delivers what the broker did not bring.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import redis.asyncio as redis
from redis.asyncio.connection import AbstractConnection

log = logging.getLogger(__name__)

# After a failed connect, publishes are dropped (the pump brings their events from the
# database) for this long before the next try: a send must not wait, message after
# message, on a Redis that is down.
RECONNECT_AFTER_S = 1.0


class RedisBroker:
    def __init__(self, url: str, prefix: str) -> None:
        self._url = url
        self._channel = f"{prefix}:events"
        self._client: redis.Redis | None = None
        self._closed = asyncio.Event()
        # Ours alone (made, not taken from the pool): nothing else may see replies off.
        self._publisher: AbstractConnection | None = None
        self._connecting = asyncio.Lock()
        self._retry_at = 0.0  # monotonic: no connect before it
        self._down = False  # publishes are being dropped (logged once, and the recovery)

    @property
    def publisher_name(self) -> str:
        return f"{self._channel}:publisher"

    async def start(self) -> None:
        self._client = redis.Redis.from_url(self._url)
        await self._client.ping()
        pool = self._client.connection_pool
        # Named, so that CLIENT LIST tells it from the subscriber.
        self._publisher = pool.connection_class(
            **{**pool.connection_kwargs, "client_name": self.publisher_name}
        )
        await self._publishing()

    async def publish(self, envelope: bytes) -> None:
        conn = self._publisher
        assert conn is not None, "start() first"
        if not conn.is_connected and not await self._publishing():
            return
        try:
            await conn.send_packed_command(
                conn.pack_command("PUBLISH", self._channel, envelope), check_health=False
            )
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            # Disconnected by send_packed_command: the next publish connects anew.
            self._went_down(exc)

    async def _publishing(self) -> bool:
        """Connect the publisher and turn replies off; False when that cannot be now."""
        conn = self._publisher
        assert conn is not None, "start() first"
        async with self._connecting:
            if conn.is_connected:
                return True
            if time.monotonic() < self._retry_at or self._closed.is_set():
                return False
            try:
                await conn.connect()  # type: ignore[no-untyped-call]
                # No reply comes to this command either.
                await conn.send_command("CLIENT", "REPLY", "OFF", check_health=False)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                await conn.disconnect(nowait=True)
                self._retry_at = time.monotonic() + RECONNECT_AFTER_S
                self._went_down(exc)
                return False
        if self._down:
            self._down = False
            log.warning("redis publishing works again")
        return True

    def _went_down(self, exc: Exception) -> None:
        if not self._down:
            self._down = True
            log.warning("redis publish failed (%s); nodes get these events from the database", exc)

    async def subscribe(self) -> AsyncIterator[bytes]:
        assert self._client is not None, "start() first"
        lost = False  # logged once an outage, and again when it ends
        while not self._closed.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if lost:
                    lost = False
                    log.warning("redis subscription restored")
                while not self._closed.is_set():
                    message = await pubsub.get_message(timeout=0.5)
                    if message is not None and isinstance(message.get("data"), bytes):
                        yield message["data"]
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                # At most once: what is published while we reconnect is missed here and
                # refilled by the event pump from the database.
                if self._closed.is_set():
                    break  # close() cut the connection
                if not lost:
                    lost = True
                    log.warning("redis subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        self._closed.set()
        if self._publisher is not None:
            await self._publisher.disconnect()
        if self._client is not None:
            await self._client.aclose()
