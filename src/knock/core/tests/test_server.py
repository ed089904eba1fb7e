"""``knock serve``'s server processes: a main loop that sleeps until asked to stop, several
workers on one socket that are kept alive, and a clear exit when a server cannot start."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from knock.core.server import STARTUP_FAILURE, QuietServer
from knock.testing import create_group, create_org, join_org, register, send_text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_quiet_server_stops_when_woken_not_at_its_next_tick(app: Any) -> None:
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    # An hour between ticks: only the wake-up can end this server within the test's time.
    server = QuietServer(config, tick_s=3600)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        answer = await client.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.headers["date"].endswith(" GMT")
    server.should_exit = True  # what its signal handler does, then it wakes the loop
    server.wake()
    await asyncio.wait_for(task, 60)


def _workers(parent: int) -> set[int]:
    """The worker processes of a ``knock serve --workers N`` (not multiprocessing's helper)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return {
        int(pid)
        for pid in children
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    }


def _running(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


def _wait_for(predicate: Callable[[], bool], what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


@pytest.mark.slow
async def test_workers_share_one_port_and_a_dead_worker_is_replaced(
    spawn_server: Callable[..., Any], cluster_env: dict[str, str]
) -> None:
    node = spawn_server(cluster_env, args=("--workers", "2"))
    parent = node.process.pid
    _wait_for(lambda: len(_workers(parent)) == 2, "two workers")
    first = _workers(parent)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: len(_workers(parent)) == 2 and victim not in _workers(parent), "a new one")
    survivor = (first - {victim}).pop()
    assert survivor in _workers(parent)
    # The node serves as before: sign-ups, a group and a message, over several connections
    # (each may land on either worker).
    async with httpx.AsyncClient(base_url=f"{node.base_url}/api/v1") as http:
        ann = await register(http, "Ann")
        bob = await register(http, "Bob")
        org = await create_org(ann)
        await join_org(ann, org, bob)
        group = await create_group(ann, org, bob)
        sent = await send_text(bob, group, "still here")
    assert sent["text"] == "still here"
    workers = _workers(parent)
    node.process.send_signal(signal.SIGTERM)
    assert node.process.wait(60) == 0
    assert not _running(workers)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_server_that_cannot_start_exits_with_3_and_is_not_restarted(workers: str) -> None:
    # Nothing listens on port 1: the broker's start fails in every worker's lifespan.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KNOCK_")},
        "KNOCK_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none",
        "KNOCK_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    port = str(_free_port())
    ended = subprocess.run(
        [sys.executable, "-m", "knock", "serve", "--port", port, "--workers", workers],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert ended.returncode == STARTUP_FAILURE, ended.stderr.decode()[-2000:]
    assert b"Application startup failed" in ended.stderr
    assert b"starting another" not in ended.stderr


def test_ctrl_c_stops_a_server_quietly(spawn_server: Callable[..., Any], tmp_path: Path) -> None:
    node = spawn_server({"KNOCK_DATA_DIR": str(tmp_path)})
    node.process.send_signal(signal.SIGINT)
    assert node.process.wait(60) == 0, node.log_tail()
    log = node.log_tail()
    assert "Traceback" not in log
    assert "Finished server process" in log
