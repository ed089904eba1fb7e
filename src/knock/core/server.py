"""The HTTP server process(es) behind ``knock serve``: uvicorn, quiet when idle.

uvicorn's own server wakes ten times a second to look for a shutdown request. On a virtual
CPU each of those wakes runs cold: 2.7 ms of CPU a second, two thirds of an idle node's.
``QuietServer`` sleeps a second at a time (the Date header's resolution) and a signal wakes
it at once. uvicorn's multi-process supervisor builds plain servers inside its workers, so
``--workers N`` is run by ``Workers``: the socket is bound once, each worker runs a
``QuietServer`` on it, a worker that dies is restarted, and SIGINT/SIGTERM stop them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("knock.server")

# What uvicorn exits with when its server never started (and ``knock serve`` with it).
STARTUP_FAILURE = 3
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class QuietServer(uvicorn.Server):
    """A uvicorn server whose main loop wakes once a ``tick_s``, or when a signal asks it to
    stop, instead of ten times a second."""

    def __init__(self, config: uvicorn.Config, tick_s: float = 1.0) -> None:
        super().__init__(config)
        self._tick_s = tick_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit_asked: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._exit_asked = asyncio.Event()
        # on_tick(0) refreshes the Date header and answers whether to stop.
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_asked.wait(), self._tick_s)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self.wake()

    def wake(self) -> None:
        """Make the main loop look at ``should_exit`` now (safe from any thread)."""
        if self._loop is not None and self._exit_asked is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._exit_asked.set)


def serve(config: uvicorn.Config, workers: int) -> None:
    """Serve until SIGINT/SIGTERM, in this process or in ``workers`` processes."""
    if workers == 1:
        server = QuietServer(config)
        # After a graceful stop uvicorn raises the signal again: Ctrl-C ends quietly.
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return
    sys.exit(Workers(config, workers).run())


def _work(config: uvicorn.Config, sock: socket.socket) -> None:
    """A worker process: the parent's logging setup, then one server on the shared socket."""
    config.configure_logging()
    server = QuietServer(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Workers:
    """``workers`` server processes on one listening socket, kept alive until a signal."""

    def __init__(self, config: uvicorn.Config, workers: int) -> None:
        self._config = config
        self._count = workers
        self._spawn = multiprocessing.get_context("spawn")
        self._stopping = False

    def run(self) -> int:
        """Run until asked to stop (0) or until a worker cannot start (3)."""
        sock = self._config.bind_socket()
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        previous_fd = signal.set_wakeup_fd(wake_write)
        previous = {sig: signal.signal(sig, self._stop) for sig in _STOP_SIGNALS}
        processes = [self._start(sock) for _ in range(self._count)]
        outcome = 0
        try:
            while not self._stopping:
                sentinels: list[Any] = [p.sentinel for p in processes]
                multiprocessing.connection.wait([*sentinels, wake_read])
                with contextlib.suppress(BlockingIOError):
                    os.set_blocking(wake_read, False)
                    os.read(wake_read, 512)
                for index, process in enumerate(processes):
                    if self._stopping or process.exitcode is None:
                        continue
                    if process.exitcode == STARTUP_FAILURE:
                        log.error("worker %s could not start; stopping", process.pid)
                        self._stopping = True
                        outcome = STARTUP_FAILURE
                        break
                    log.warning(
                        "worker %s exited (%s); starting another", process.pid, process.exitcode
                    )
                    processes[index] = self._start(sock)
        finally:
            for process in processes:
                if process.exitcode is None:
                    process.terminate()  # SIGTERM: the worker shuts down gracefully
            for process in processes:
                process.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_fd)
            os.close(wake_read)
            os.close(wake_write)
            sock.close()
        return outcome

    def _start(self, sock: socket.socket) -> Any:
        process = self._spawn.Process(target=_work, args=(self._config, sock))
        process.start()
        log.info("started worker %s", process.pid)
        return process

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        self._stopping = True
