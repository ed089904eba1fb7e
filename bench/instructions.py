"""Instructions per delivery of Knock's fan-out, counted by callgrind:
``python -m bench.instructions [--commit C] [--events N]``.

CPU time on these machines is shared and noisy; valgrind's count of executed instructions
is not (the same code and input count the same, whatever else the machine does). A driver
process hands N events to the event pump's dispatch for 1,000 live connections: Knock's own
``EventPump``, ``Registry``, ``Connection`` and ``WriteBatch``, with transports whose
``write`` and ``is_closing`` cost next to nothing (C callables), so the system call that
dominates a real delivery is left out and what remains is Knock's own work in user space.
Beside it, in the same run, the floor: a loop writing the same frame to the same 1,000
transports (what ``bench/rawfanout.py`` does per delivery). Callgrind counts from the end of
set-up; each runs twice, with a few events and with N more, and the difference is taken, so
what comes before and after the fan-outs cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
from typing import Any, cast

CONNECTIONS = 1000
BASE_EVENTS = 5
PAYLOAD = (
    b'{"cursor":"1","type":"message.created","message":{"id":"01m96pr89jz8q4mfhmv9tv0630",'
    b'"conversation_id":"c","seq":1,"sender_id":"u1","text":"hello there, an ordinary line"}}'
)
_COLLECTED = re.compile(r"Collected : (\d+)")


def drive(kind: str, events: int) -> None:
    """Set up, say ``ready``, wait for a line on stdin (the parent turns callgrind's
    instrumentation on meanwhile), then run ``events`` fan-outs of ``kind`` (``knock`` or
    ``floor``)."""
    import uvloop

    from knock.core.events import Audience, StoredEvent
    from knock.realtime.pump import EventPump
    from knock.realtime.registry import Connection, Registry
    from knock.realtime.wire import text_frame

    written: list[bytes] = []
    transports = [
        types.SimpleNamespace(write=written.append, is_closing=bool) for _ in range(CONNECTIONS)
    ]
    registry = Registry()
    for i, transport in enumerate(transports):
        conn = Connection(f"u{i}", f"s{i}", 1024, registry.batch)
        # Handed over as Knock's protocol does once the replay is sent (``live_on``).
        wire = types.SimpleNamespace(detach=lambda _conn: True, transport=transport, paused=False)
        assert conn.live_on(cast(Any, wire))
        registry.add(conn, ["c"], [])
    pump = EventPump(cast(Any, None), cast(Any, None), registry)
    audience = Audience(conversation_id="c")

    async def floor() -> None:
        for _ in range(events):
            frame = text_frame(PAYLOAD)
            for transport in transports:
                transport.write(frame)
            await asyncio.sleep(0)

    async def knock() -> None:
        for i in range(events):
            pump._dispatch(StoredEvent(i + 1, "message.created", PAYLOAD, audience))
            await asyncio.sleep(0)  # the write batch flushes
        assert pump.delivered_count == events

    print("ready", flush=True)
    sys.stdin.readline()
    uvloop.run(knock() if kind == "knock" else floor())
    # Every fan-out went out as writes, not into queues.
    assert len(written) == events * CONNECTIONS, (len(written), events)


def count(kind: str, events: int, env: dict[str, str] | None = None) -> int:
    """Instructions callgrind counts while a driver process does ``events`` fan-outs
    (and exits): instrumentation starts once the driver is set up, so imports and set-up
    run at native speed and are not counted."""
    valgrind, control = shutil.which("valgrind"), shutil.which("callgrind_control")
    if valgrind is None or control is None:
        raise RuntimeError("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        driver = subprocess.Popen(
            [
                valgrind,
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={os.path.join(tmp, 'out')}",
                sys.executable,
                "-m",
                "bench.instructions",
                "--drive",
                kind,
                "--events",
                str(events),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert driver.stdin is not None and driver.stdout is not None
        try:
            if driver.stdout.readline().strip() == "ready":
                subprocess.run(
                    [control, "--instr=on", str(driver.pid)],
                    capture_output=True,
                    check=True,
                    timeout=60,
                )
                driver.stdin.write("go\n")
                driver.stdin.flush()
            _, errors = driver.communicate(timeout=600)
        finally:
            if driver.poll() is None:
                driver.kill()
                driver.wait()
    found = _COLLECTED.search(errors)
    if driver.returncode != 0 or found is None:
        raise RuntimeError(f"the {kind} driver failed:\n{errors[-2000:]}")
    return int(found.group(1))


def per_delivery(kind: str, events: int, env: dict[str, str] | None = None) -> float:
    """Instructions per delivery: (N + base events) minus (base events), over N x 1,000."""
    extra = count(kind, BASE_EVENTS + events, env) - count(kind, BASE_EVENTS, env)
    return extra / (events * CONNECTIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200, help="fan-outs counted (default 200)")
    parser.add_argument("--commit", help="count this commit's src/ (git archive)")
    parser.add_argument("--drive", choices=["knock", "floor"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args.drive, args.events)
        return
    env = dict(os.environ)
    label = "working tree"
    root = ""
    if args.commit:
        from bench.__main__ import snapshot, snapshot_pythonpath

        root, resolved = snapshot(args.commit)
        label = resolved
        env["PYTHONPATH"] = snapshot_pythonpath(root)
    try:
        knock = per_delivery("knock", args.events, env)
        floor = per_delivery("floor", args.events, env)
    finally:
        if root:
            shutil.rmtree(root, ignore_errors=True)
    print(f"Instructions per delivery, {args.events} fan-outs to {CONNECTIONS} sockets ({label}):")
    print()
    print("| fan-out | instructions per delivery | ÷ floor |")
    print("|---|---|---|")
    print(f"| Knock (pump → registry → write batch) | {knock:,.0f} | {knock / floor:.2f} |")
    print(f"| floor (a loop of writes) | {floor:,.0f} | 1.00 |")


if __name__ == "__main__":
    main()
