"""The broker: carries committed events from the node that wrote them to every node.

Guarantees every implementation gives (one test suite checks them on all of them):
- Fan-out: every envelope published by any node reaches every subscribed node.
- Order: envelopes from one publisher arrive in the order they were published.
- At most once: a subscriber that is slow, disconnected or restarting may miss envelopes.
  Nothing is retried; the broker keeps no history.

What it does not give, and who does: the order across publishers and the envelopes a node
missed are restored by each node's event pump from the event log in the database (ids are
gapless and commit-ordered). So the broker is the fast path, the database the truth.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class Broker(Protocol):
    async def start(self) -> None:
        """Connect; after this returns, ``subscribe`` sees everything published."""

    async def publish(self, envelope: bytes) -> None:
        """Send one envelope to every node (this one included)."""

    def subscribe(self) -> AsyncIterator[bytes]:
        """Envelopes as they arrive; ends when the broker is closed."""

    async def close(self) -> None: ...


def create_broker(url: str, prefix: str) -> Broker:
    if url.startswith("memory://"):
        from knock.realtime.brokers.memory import MemoryBroker

        return MemoryBroker()
    from knock.realtime.brokers.redis import RedisBroker

    return RedisBroker(url, prefix)
