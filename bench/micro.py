"""What one database round trip costs in Knock's stack: ``python -m bench.micro``.

In one process on one CPU: Knock's ``Database.read()`` with one ORM select (what
``authenticate`` does per request), the same through SQLAlchemy Core, aiosqlite without
SQLAlchemy, and plain sqlite3 in the loop's thread. CPU time (process) per operation.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

N = 2000


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _measure(name: str, op: Callable[[], Awaitable[object]]) -> tuple[str, float, float]:
    for _ in range(100):
        await op()
    cpu0, t0 = _cpu(), time.perf_counter()
    for _ in range(N):
        await op()
    return name, (_cpu() - cpu0) / N * 1e6, (time.perf_counter() - t0) / N * 1e6


async def main() -> None:
    import aiosqlite
    from sqlalchemy import select, text

    from knock.core.db import Database
    from knock.core.migrate import migrate
    from knock.features.accounts.models import User

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "knock.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(migrate, url)
        with sqlite3.connect(path) as raw:
            raw.execute(
                "INSERT INTO users (id, email, display_name, password_hash, created_at) "
                "VALUES ('u1', 'a@example.com', 'A', '-', '2026-01-01 00:00:00')"
            )
        db = Database(url)

        async def orm_read() -> object:
            async with db.read() as session:
                return (await session.execute(select(User).where(User.id == "u1"))).first()

        async def core_read() -> object:
            async with db.read_engine.connect() as conn:
                return (await conn.execute(text("SELECT * FROM users WHERE id='u1'"))).first()

        adb = await aiosqlite.connect(path)

        async def aiosqlite_read() -> object:
            async with adb.execute("SELECT * FROM users WHERE id='u1'") as cursor:
                return await cursor.fetchone()

        sync = sqlite3.connect(path)

        async def sqlite3_read() -> object:
            return sync.execute("SELECT * FROM users WHERE id='u1'").fetchone()

        rows = [
            await _measure("Database.read() + ORM select (Knock's authenticate)", orm_read),
            await _measure("SQLAlchemy Core connect + text select", core_read),
            await _measure("aiosqlite execute + fetchone", aiosqlite_read),
            await _measure("sqlite3 execute + fetchone (in the loop thread)", sqlite3_read),
        ]
        await adb.close()
        sync.close()
        await db.dispose()
    print("| operation | µs CPU | µs wall |\n|---|---|---|")
    for name, cpu, wall in rows:
        print(f"| {name} | {cpu:.0f} | {wall:.0f} |")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
