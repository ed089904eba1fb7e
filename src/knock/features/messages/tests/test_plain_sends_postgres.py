"""PostgreSQL's one-call send (knock_send_text) when its sender is removed while it waits
for the conversation's row: it rolls back, and the send answers 404 with nothing written."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from knock.core.db import Database
from knock.testing import create_group, send_text, team


@pytest.fixture
def database_url(clean_pg_url: str) -> str:
    return clean_pg_url


async def _counts(db: Database, group: str) -> tuple[int, int, int]:
    async with db.read() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT last_seq FROM conversations WHERE id = :g),"
                    " (SELECT count(*) FROM messages WHERE conversation_id = :g),"
                    " (SELECT last_id FROM event_counter)"
                ),
                {"g": group},
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def _wait_for_a_send_on_a_lock(db: Database) -> None:
    for _ in range(400):
        async with db.read() as session:
            waiting = (
                await session.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE '%knock_send_text%'"
                    )
                )
            ).scalar_one()
        if waiting:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the send never waited for the conversation's row")


async def test_a_sender_removed_while_their_send_waits_gets_404_and_nothing_is_written(
    app: Any, http: httpx.AsyncClient
) -> None:
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    await send_text(bob, group, "before")
    db: Database = app.state.node.db
    before = await _counts(db, group)
    # What removing Bob does, in a transaction that takes the conversation's row first.
    async with db.transaction() as txn:
        await txn.session.execute(
            text("SELECT 1 FROM conversations WHERE id = :g FOR UPDATE"), {"g": group}
        )
        sending = asyncio.create_task(
            bob.post(f"/conversations/{group}/messages", {"client_msg_id": "x", "text": "late"})
        )
        await _wait_for_a_send_on_a_lock(db)
        await txn.session.execute(
            text("DELETE FROM conversation_members WHERE conversation_id = :g AND user_id = :u"),
            {"g": group, "u": bob.id},
        )
        await txn.session.execute(
            text("UPDATE conversations SET member_count = member_count - 1 WHERE id = :g"),
            {"g": group},
        )
    response = await sending
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert await _counts(db, group) == before
    after = await send_text(ann, group, "next")
    assert (after["seq"], after["unread_count"]) == (before[0] + 1, 0)
