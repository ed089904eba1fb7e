"""SQLite connections go back to the pool without a transaction left open."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
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


async def test_a_write_cancelled_inside_a_statement_leaves_no_lock_behind(
    tmp_path: Path,
) -> None:
    """A task cancelled while its statement runs on aiosqlite's thread (a node shutting
    down, a flush stopped): its transaction ends and SQLite's write lock is free."""
    path = tmp_path / "knock.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    loop = asyncio.get_running_loop()
    try:
        async with db.transaction() as txn:
            await txn.session.execute(text("CREATE TABLE t (x INTEGER)"))

        async def write(running: asyncio.Event) -> None:
            def slow() -> int:  # a statement that runs on the driver's thread a while
                loop.call_soon_threadsafe(running.set)
                time.sleep(0.2)
                return 1

            async with db.transaction() as txn:
                await txn.session.execute(text("INSERT INTO t VALUES (1)"))
                connection = await txn.session.connection()
                driver = (await connection.get_raw_connection()).driver_connection
                assert driver is not None
                await driver.create_function("slow", 0, slow)
                await txn.session.execute(text("SELECT slow()"))

        for _ in range(3):
            running = asyncio.Event()
            task = asyncio.create_task(write(running))
            await running.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            other = sqlite3.connect(path, isolation_level=None, timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")  # busy at once if the lock were held
                other.execute("ROLLBACK")
            finally:
                other.close()
            async with db.transaction() as txn:
                await txn.session.execute(text("INSERT INTO t VALUES (2)"))
        async with db.read() as session:
            assert list((await session.execute(text("SELECT x FROM t"))).scalars()) == [2, 2, 2]
    finally:
        await db.dispose()
