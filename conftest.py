"""Test fixtures: real databases (SQLite file and PostgreSQL), real brokers, real servers.

Every database-backed test runs twice: on SQLite and on PostgreSQL (the latter only when
KNOCK_TEST_DATABASE_URL is set; each run creates its own database and drops it). Realtime
tests that take ``broker_url`` also run on the in-memory and the Redis broker
(KNOCK_TEST_REDIS_URL; each run uses its own key prefix).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from knock.config import Settings, load_settings
from knock.core.migrate import migrate
from knock.main import create_app
from knock.tables import metadata

PG_URL = os.environ.get("KNOCK_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("KNOCK_TEST_REDIS_URL", "")
RUN_ID = uuid.uuid4().hex[:10]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin_execute(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def run_outside_loop(function: Callable[..., Any], *args: Any) -> Any:
    """Run blocking setup (which may call asyncio.run) in a thread of its own, so it also
    works when a fixture is first requested from inside a running event loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "knock.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("KNOCK_TEST_DATABASE_URL is not set")
    name = f"knock_test_{RUN_ID}"
    base = make_url(PG_URL)
    run_outside_loop(asyncio.run, _admin_execute(PG_URL, f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        run_outside_loop(migrate, url)
        yield url
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        run_outside_loop(asyncio.run, _admin_execute(PG_URL, drop))


async def _reset_pg(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
            await conn.execute(
                text("INSERT INTO event_counter (id, last_id, pruned_upto) VALUES (1, 0, 0)")
            )
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or the run's PostgreSQL database."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "knock.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("pg_database")
    run_outside_loop(asyncio.run, _reset_pg(url))
    return url


@pytest.fixture
def clean_pg_url(pg_database: str) -> str:
    """The run's PostgreSQL database, emptied (for tests that start their own servers)."""
    run_outside_loop(asyncio.run, _reset_pg(pg_database))
    return pg_database


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("KNOCK_TEST_REDIS_URL is not set")
    return REDIS_URL


@pytest.fixture
def cluster_env(clean_pg_url: str, redis_url: str) -> dict[str, str]:
    """The settings of server processes that share the run's PostgreSQL database (emptied)
    and Redis, under a broker prefix of their own."""
    return {
        "KNOCK_DATABASE_URL": clean_pg_url,
        "KNOCK_BROKER_URL": redis_url,
        "KNOCK_BROKER_PREFIX": f"knocktest-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture(params=["memory", "redis"])
def broker_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    if not REDIS_URL:
        pytest.skip("KNOCK_TEST_REDIS_URL is not set")
    return REDIS_URL


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its tests."""
    return {}


@pytest.fixture
def settings(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path: Path,
    settings_overrides: dict[str, Any],
) -> Settings:
    broker = "memory://"
    if "broker_url" in request.fixturenames:
        broker = request.getfixturevalue("broker_url")
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": str(tmp_path / "data"),
        "broker_url": broker,
        "broker_prefix": f"knocktest-{RUN_ID}-{uuid.uuid4().hex[:6]}",
        # Tests fire bursts (500 readers at once) on a machine that may be busy; time-based
        # shedding would turn the CPU's neighbours into 503s. Admission's own tests set
        # their limits; the in-flight limit and queue bound stay on everywhere.
        "queue_target_ms": 60_000,
        "queue_timeout_ms": 60_000,
        # Nor by the write gate: a burst of 50 sends that outlasts the standing-queue interval
        # on a busy machine would have its late arrivals refused (PostgreSQL's gate is 10).
        "max_inflight_writes": 1000,
    }
    values.update(settings_overrides)
    return load_settings(environ={}, **values)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver/api/v1"
    ) as client:
        yield client


@contextlib.asynccontextmanager
async def serve_in_loop(
    app: Any, port: int, ws: str = "knock.realtime.wire:KnockWebSocketProtocol"
) -> AsyncIterator[str]:
    """Serve an app (already started) on 127.0.0.1:port over real sockets in this loop
    (with ``knock serve``'s WebSocket protocol unless told otherwise)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws=ws,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def live(app: Any) -> AsyncIterator[str]:
    """The app served over TCP (for WebSocket tests); yields "host:port"."""
    async with serve_in_loop(app, free_port()) as address:
        yield address


@pytest.fixture
def serve_with_protocol() -> Callable[[Any, str], contextlib.AbstractAsyncContextManager[str]]:
    """For tests that pick uvicorn's WebSocket protocol: (app, protocol) -> "host:port".
    A fixture, because test folders cannot import this module by name (pytest loads it in
    importlib mode, and under xdist the root is not on sys.path)."""

    def serve(app: Any, protocol: str) -> contextlib.AbstractAsyncContextManager[str]:
        return serve_in_loop(app, free_port(), protocol)

    return serve


class ServerProcess:
    """A real ``knock serve`` in its own process, to kill, restart and talk to over TCP."""

    def __init__(
        self, env: dict[str, str], port: int | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.port = port or free_port()
        self.args = args
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("KNOCK_")}, **env}
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 180.0) -> None:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while it runs
        self.process = subprocess.Popen(
            [sys.executable, "-m", "knock", "serve", "--port", str(self.port), *self.args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"knock serve exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"knock serve did not start in time: {self.log_tail()}")

    def log_tail(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine loses power."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        if self._log is not None:
            self._log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()


@pytest.fixture
def spawn_server() -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def spawn(
        env: dict[str, str], port: int | None = None, args: tuple[str, ...] = ()
    ) -> ServerProcess:
        server = ServerProcess(env, port, args)
        started.append(server)  # stopped at the end even when it never came up
        server.start()
        return server

    yield spawn
    for server in started:
        server.stop()


class RedisServer:
    """A redis-server of the test's own, to stop and start again on the same port."""

    def __init__(self, port: int, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = port
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""],
            stdout=subprocess.DEVNULL,
            cwd=self.directory,
        )

    async def ready(self) -> None:
        client = redis.Redis.from_url(self.url)
        try:
            for _ in range(100):
                with contextlib.suppress(redis.ConnectionError):
                    await client.ping()
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("redis-server did not start")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis to stop and start (the run's own, KNOCK_TEST_REDIS_URL, is shared)."""
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()
