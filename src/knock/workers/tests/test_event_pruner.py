from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import time_machine

from knock.realtime.eventlog import events_between, pruned_upto
from knock.testing import create_org, register
from knock.workers.event_pruner import prune_expired_events


async def test_events_older_than_the_retention_are_forgotten(
    app: Any, http: httpx.AsyncClient
) -> None:
    db = app.state.node.db
    owner = await register(http)
    with time_machine.travel(datetime.now(UTC) - timedelta(days=10), tick=True):
        await create_org(owner, "Old")
    await create_org(owner, "New")
    async with db.read() as session:
        before = await events_between(session, 0, 10**9)
    assert len(before) == 2

    removed = await prune_expired_events(db, retention_s=3 * 24 * 3600)

    assert removed == 1
    async with db.read() as session:
        after = await events_between(session, 0, 10**9)
        oldest = await pruned_upto(session)
    assert [e.id for e in after] == [before[1].id]
    assert oldest == before[0].id
    assert await prune_expired_events(db, retention_s=3 * 24 * 3600) == 0
