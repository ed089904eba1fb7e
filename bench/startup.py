"""``python -m bench.startup [--runs N] [--tree LABEL=SRC ...]``: how long a start takes.

Spawns ``python -m knock serve`` on a free loopback port with a fresh SQLite data directory
(as the test suite's e2e and durability tests do), times spawn → first 200 from
``/api/v1/health``, SIGTERMs it, and repeats; a restart on the now migrated database is
timed too (what a durability test's restart costs). Also times a bare ``import knock.main``
in a fresh interpreter, the import part of a start. Each figure is given as wall time and
as the CPU time (user + system) the process used until then: on a shared, busy machine the
wall time measures the neighbours too, the CPU time much less so.

``--tree old=/path/to/other/checkout/src`` measures another checkout's code beside this one
(the same interpreter and packages; its ``src`` goes first on ``PYTHONPATH``). Trees are
measured in turn, run by run, so that both see the same machine: this machine is shared,
and only figures from one run compare. Prints every figure, the medians and the load.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MAX_RUNS = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(src: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNOCK_")}
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a live process has used (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_serve(src: str | None, data_dir: str, timeout_s: float = 120.0) -> tuple[float, float]:
    """Wall and CPU seconds from spawning ``knock serve`` to its first healthy answer."""
    port = _free_port()
    env = _env(src)
    env["KNOCK_DATA_DIR"] = data_dir
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "knock", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/health"
        while time.monotonic() - started < timeout_s:
            if process.poll() is not None:
                raise RuntimeError(f"knock serve exited with {process.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        return time.monotonic() - started, _cpu_s(process.pid)
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("knock serve did not answer in time")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def time_import(src: str | None, module: str) -> tuple[float, float]:
    """Wall and CPU seconds a fresh interpreter takes to import ``module`` (start to exit)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=_env(src))
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(src: str | None) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as data_dir:
        return {
            "import knock.main": time_import(src, "knock.main"),
            "serve, fresh database": time_serve(src, data_dir),
            "serve, restart": time_serve(src, data_dir),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--tree", action="append", default=[], help="LABEL=SRC: another checkout's src dir"
    )
    args = parser.parse_args()
    runs = max(1, min(args.runs, MAX_RUNS))
    trees: dict[str, str | None] = {"this": None}
    for spec in args.tree:
        label, _, src = spec.partition("=")
        if not (Path(src) / "knock").is_dir():
            parser.error(f"--tree {spec}: no knock package in {src}")
        trees[label] = str(Path(src).resolve())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figures: dict[str, dict[str, list[tuple[float, float]]]] = {label: {} for label in trees}
    for _ in range(runs):
        for label, src in trees.items():
            for name, seconds in measure(src).items():
                figures[label].setdefault(name, []).append(seconds)
    for label, by_name in figures.items():
        for name, values in by_name.items():
            wall = [w for w, _ in values]
            cpu = [c for _, c in values]
            print(
                f"{label:6} {name:22} wall median {statistics.median(wall):5.2f} s"
                f" ({_show(wall)}), CPU median {statistics.median(cpu):5.2f} s ({_show(cpu)})"
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _show(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
