"""SQLite connections go back to the pool without a transaction left open."""

from __future__ import annotations

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
