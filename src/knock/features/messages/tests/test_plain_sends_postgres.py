"""PostgreSQL's one-call send (knock_send_text): when its sender is removed while it waits
for the conversation's row it rolls back, and the send answers 404 with nothing written;
and it finds a retry without reading the conversation's messages, whatever plan
PostgreSQL keeps."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

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


SEND = "SELECT * FROM knock_send_text($1, $2, $3, $4, 'h', 'hello', now(), '{', '}')"
SEQ_INDEX_READS = (
    "SELECT idx_tup_read FROM pg_stat_user_indexes"
    " WHERE indexrelname = 'uq_messages_conversation_id_seq'"
)


async def _seq_index_reads(conn: Any) -> int:
    await conn.execute("SELECT pg_stat_force_next_flush()")  # this connection's counts
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(await conn.fetchval(SEQ_INDEX_READS))


async def test_a_send_reads_none_of_the_conversations_messages_to_find_a_retry(
    http: httpx.AsyncClient, database_url: str
) -> None:
    """0008 looked for a retry with a query, and PL/pgSQL keeps each connection's plan: made
    while the table was nearly empty, it could read every message of the conversation
    through the (conversation_id, seq) index on each send, until an ANALYZE."""
    org_id, (ann, bob) = await team(http, "Ann", "Bob")
    group = await create_group(ann, org_id, bob)
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(url)
    try:
        # A node's pooled connection: its plans are made now, on an almost empty table.
        for i in range(10):
            await conn.fetchrow(SEND, group, ann.id, f"early-{i}", f"early{i:021d}")
        # A long history, written without an ANALYZE (which would replan).
        await conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, sender_id, client_msg_id,"
            " request_hash, type, text, mentions, created_at, recalled)"
            " SELECT 'history' || lpad(g::text, 19, '0'), $1, 10 + g, $2, 'history-' || g,"
            " 'h', 'text', 'old', '[]', now(), false FROM generate_series(1, 3000) g",
            group,
            bob.id,
        )
        await conn.execute(
            "UPDATE conversations SET last_seq = last_seq + 3000 WHERE id = $1", group
        )
        before = await _seq_index_reads(conn)
        for i in range(5):
            sent = await conn.fetchrow(SEND, group, ann.id, f"late-{i}", f"late{i:022d}")
            assert sent is not None and sent[0] == 3011 + i
        # A retry is still found (and answered by the full path, which this call hands it to).
        with pytest.raises(asyncpg.exceptions.NoDataFoundError):
            await conn.fetchrow(SEND, group, ann.id, "late-0", "another00000000000000000")
        # Reading the history once per send would be 5 x 3,000.
        assert await _seq_index_reads(conn) - before < 100
    finally:
        await conn.close()
