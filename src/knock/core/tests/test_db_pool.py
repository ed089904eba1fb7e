"""SQLite connections go back to the pool without a transaction left open."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import text

from knock.core.db import Database


async def test_a_connection_left_inside_a_transaction_is_rolled_back_on_return(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'knock.db'}")
    try:
        async with db.transaction() as txn:
            await txn.session.execute(text("CREATE TABLE t (x INTEGER)"))
        # Behind SQLAlchemy's back, as an interrupted session could leave it: the pool's
        # reset must see the open transaction and roll it back.
        async with db.write_engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.execute("BEGIN IMMEDIATE")
            await driver.execute("INSERT INTO t VALUES (1)")
        async with db.transaction() as txn:  # the pool's one writer connection again
            await txn.session.execute(text("INSERT INTO t VALUES (2)"))
        async with db.read() as session:
            assert list((await session.execute(text("SELECT x FROM t"))).scalars()) == [2]
    finally:
        await db.dispose()


async def test_read_one_sees_commits(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'knock.db'}")
    try:
        async with db.transaction() as txn:
            await txn.session.execute(text("CREATE TABLE t (x INTEGER)"))
            await txn.session.execute(text("INSERT INTO t VALUES (1)"))
        assert await db.read_one("SELECT max(x) FROM t") == (1,)
        async with db.raw_transaction() as raw:
            await raw.run("INSERT INTO t VALUES (?)", 2)
        assert await db.read_one("SELECT max(x) FROM t WHERE x > ?", 0) == (2,)
        assert await db.read_one("SELECT x FROM t WHERE x > 5") is None
    finally:
        await db.dispose()


async def test_read_one_waits_off_the_loop_while_the_file_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "knock.db"
    # Another process's connection that keeps the database to itself (WAL's exclusive
    # locking mode, once it has written): a read on the loop's thread hears busy at once.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("INSERT INTO t VALUES (3)")
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        try:
            waiting = asyncio.create_task(db.read_one("SELECT max(x) FROM t"))
            # The loop is free meanwhile: the read waits on a driver thread.
            for _ in range(20):
                await asyncio.sleep(0.01)
            assert not waiting.done()
        finally:
            holder.close()
        assert await asyncio.wait_for(waiting, 60) == (3,)
        assert await db.read_one("SELECT max(x) FROM t") == (3,)
    finally:
        await db.dispose()
