"""Where an idle WebSocket's memory goes: ``python -m bench.memory [--count N] [--target T]``.

Starts a real server (``knock serve``, or the bare baseline with ``--target bare``) under
``tracemalloc``, opens a few warm-up sockets (one-off caches and imports), snapshots the
server's Python heap, opens N more idle sockets, snapshots again and prints the difference
per connection: by allocating line, by the nearest frame in the web stack or Knock
(``via``), and as a census of live objects by type (``gc``, containers only, with
``sys.getsizeof``). tracemalloc sees the Python allocators only (libuv's and the kernel's
buffers are not in it) and inflates RSS with its own bookkeeping: ``python -m bench
--only idle`` stays the measure of KiB per connection; this script says what makes it up.

The server process runs as ``python -m bench.memory --traced -m <module> <args>``: it
runs the module as ``__main__``; SIGUSR1 writes a snapshot (the first one starts tracing,
so the difference is what was allocated after it and is still alive). Loopback only; bounded by N.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import pickle
import runpy
import signal
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

OUT_ENV = "BENCH_MEMORY_DIR"
FRAMES = 30
WARM_UP = 50
# Frames that say which part of the stack keeps an allocation (the nearest one wins).
OWNERS = ("knock/", "starlette/", "fastapi/", "uvicorn/", "websockets/", "bench/bare")


# --- in the server process ------------------------------------------------------------------


def _census() -> dict[str, tuple[int, int]]:
    """Live gc-tracked objects by type: (count, bytes by sys.getsizeof)."""
    gc.collect()
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        name = f"{kind.__module__}.{kind.__qualname__}"
        counts[name] += 1
        sizes[name] += sys.getsizeof(obj)
    return {name: (counts[name], sizes[name]) for name in counts}


def _dump(out: Path) -> None:
    """The first call starts tracing (a traced start-up, imports included, takes minutes);
    a later one takes the snapshot and stops tracing, so that the census is not traced."""
    index = len(list(out.glob("snap-*.pickle")))
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        census = _census()
    else:
        census = _census()
        tracemalloc.start(FRAMES)
        snapshot = tracemalloc.take_snapshot()
    tmp = out / f"tmp-{index}"
    with tmp.open("wb") as f:
        pickle.dump((snapshot, census), f)
    tmp.rename(out / f"snap-{index}.pickle")


def _on_signal(signum: int, frame: FrameType | None) -> None:
    out = Path(os.environ[OUT_ENV])
    loop = asyncio._get_running_loop()  # the handler runs in the loop's thread
    if loop is not None:
        loop.call_soon_threadsafe(_dump, out)  # between callbacks, not inside one
    else:
        _dump(out)


def traced(argv: list[str]) -> None:
    """Run ``-m module args...``; SIGUSR1 starts tracemalloc (the first time) and
    writes a snapshot."""
    if len(argv) < 2 or argv[0] != "-m":
        raise SystemExit("usage: python -m bench.memory --traced -m MODULE [ARGS...]")
    signal.signal(signal.SIGUSR1, _on_signal)
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)


# --- in the measuring process ---------------------------------------------------------------


async def _snapshot(pid: int, out: Path, index: int) -> tuple[Any, dict[str, tuple[int, int]]]:
    os.kill(pid, signal.SIGUSR1)
    path = out / f"snap-{index}.pickle"
    deadline = time.monotonic() + 120
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the server wrote no snapshot")
        await asyncio.sleep(0.1)
    with path.open("rb") as f:
        loaded: tuple[Any, dict[str, tuple[int, int]]] = pickle.load(f)  # noqa: S301 - ours
    return loaded


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        at = filename.rfind(marker)
        if at >= 0:
            return filename[at + len(marker) :]
    return filename


def _via(trace: tracemalloc.Traceback) -> str:
    """The innermost frame in Knock or the web stack: who keeps this allocation."""
    frames = list(trace)  # the oldest call first
    for frame in reversed(frames):
        if any(owner in frame.filename for owner in OWNERS):
            return f"{_short(frame.filename)}:{frame.lineno}"
    return f"{_short(frames[-1].filename)}:{frames[-1].lineno}"


def report(before: Any, after: Any, count: int, top: int) -> str:
    snap0, census0 = before
    snap1, census1 = after
    lines: list[str] = []
    stats = snap1.compare_to(snap0, "traceback")
    total = sum(s.size_diff for s in stats)
    lines.append(f"Python heap (tracemalloc): {total / count / 1024:.1f} KiB per connection")
    lines.append("")
    by_line: Counter[str] = Counter()
    by_line_n: Counter[str] = Counter()
    by_via: Counter[str] = Counter()
    by_via_n: Counter[str] = Counter()
    for stat in stats:
        frame = list(stat.traceback)[-1]  # where the block was allocated
        line = f"{_short(frame.filename)}:{frame.lineno}"
        via = _via(stat.traceback)
        by_line[line] += stat.size_diff
        by_line_n[line] += stat.count_diff
        by_via[via] += stat.size_diff
        by_via_n[via] += stat.count_diff
    for title, sizes, counts in (
        ("nearest frame in Knock or the web stack", by_via, by_via_n),
        ("allocating line", by_line, by_line_n),
    ):
        lines.append(f"| {title} | bytes per connection | blocks per connection |")
        lines.append("|---|---|---|")
        for key, size in sizes.most_common(top):
            lines.append(f"| {key} | {size / count:.0f} | {counts[key] / count:.1f} |")
        lines.append("")
    lines.append("| live objects by type (gc) | objects per connection | bytes per connection |")
    lines.append("|---|---|---|")
    grown = {
        name: (n - census0.get(name, (0, 0))[0], size - census0.get(name, (0, 0))[1])
        for name, (n, size) in census1.items()
    }
    ranked = sorted(grown.items(), key=lambda kv: -kv[1][1])
    for name, (n, size) in ranked[:top]:
        if n <= 0:
            break
        lines.append(f"| {name} | {n / count:.2f} | {size / count:.0f} |")
    return "\n".join(lines)


async def measure(target_name: str, count: int, top: int, pin: bool) -> str:
    from bench.runner import Options, running
    from bench.targets import BareTarget, KnockTarget, Target

    traced = ["-m", "bench.memory", "--traced"]

    class TracedKnock(KnockTarget):
        wrapper = traced

    class TracedBare(BareTarget):
        wrapper = traced

    target: Target = TracedKnock() if target_name == "knock" else TracedBare()
    options = Options(quick=True, pin=pin, setup="seed")
    with tempfile.TemporaryDirectory(prefix="knock-memory-") as out_dir:
        out = Path(out_dir)
        os.environ[OUT_ENV] = out_dir
        async with running(target, options, WARM_UP + count, connect=False) as session:
            assert target.server is not None and target.server.process is not None
            pid = target.server.process.pid
            await session.connect(list(range(WARM_UP)))
            await asyncio.sleep(1.0)
            before = await _snapshot(pid, out, 0)
            rss0 = target.server.rss()
            per_s = await session.connect(list(range(WARM_UP, WARM_UP + count)))
            await asyncio.sleep(2.0)
            rss1 = target.server.rss()
            after = await _snapshot(pid, out, 1)
            open_now = sum(1 for c in session.clients if c is not None and not c.closed.done())
    head = (
        f"## {target_name}: {count} idle sockets ({open_now} open incl. {WARM_UP} warm-up), "
        f"{per_s:.0f} connects/s under tracemalloc; RSS {(rss1 - rss0) / count / 1024:.1f} "
        "KiB per connection (tracemalloc's own bookkeeping included)\n"
    )
    return head + "\n" + report(before, after, count, top)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--traced":
        traced(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--count", type=int, default=1000, help="idle sockets to open")
    parser.add_argument("--target", choices=("knock", "bare"), default="knock")
    parser.add_argument("--top", type=int, default=25, help="rows per table")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.count <= 20_000:
        parser.error("--count: 1 to 20000")
    from bench.procs import pin_self

    pin = not args.no_pin and pin_self()
    print(asyncio.run(measure(args.target, args.count, args.top, pin)))


if __name__ == "__main__":
    main()
