"""``python -m bench [--quick]``: Knock's realtime benchmark beside a bare fan-out ceiling.

Starts every server itself on 127.0.0.1 (restarted per scenario), pinned to CPU 0 while
the load generator runs on CPU 1 (PEERS.md), sends real traffic over the real API, and
writes JSON to bench/out/ and a markdown report to stdout. Bounded: every phase has a fixed
message count and a drain of at most 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from bench.procs import cpus, pin_self
from bench.report import markdown
from bench.runner import P99_LIMIT_MS, Options
from bench.scenarios import catalog
from bench.targets import BareTarget, KnockTarget, RawTarget
from bench.xmpp.scenarios import XMPP_SCENARIOS, EjabberdTarget, ProsodyTarget, XMPPTarget
from bench.xmpp.servers import installed, version

OUT_DIR = Path(__file__).parent / "out"
BASELINES = {"bare": BareTarget, "raw": RawTarget}
NOT_IN_QUICK = {"surge", "receipts-storm", "multinode", "multinode-spread"}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "nproc": os.cpu_count(),
        "cpus_allowed": cpus(),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "command": "python -m bench " + " ".join(sys.argv[1:]),
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced set, under 5 minutes")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baselines")
    parser.add_argument(
        "--baselines",
        default="",
        help="comma-separated: bare (uvicorn ASGI fan-out), raw (asyncio protocol fan-out); "
        "default bare in --quick, bare,raw otherwise",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also run Prosody and ejabberd (group100 and group1000 scenarios; installed with "
        "python -m bench.xmpp.servers install)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin CPUs")
    parser.add_argument(
        "--setup", choices=["auto", "api", "seed"], default="auto", help="how users are made"
    )
    parser.add_argument("--postgres", default="", help="admin URL: a database per scenario")
    parser.add_argument("--redis", default="", help="broker URL (with --postgres)")
    parser.add_argument("--out", default=str(OUT_DIR), help="where the JSON goes")
    parser.add_argument(
        "--server-env",
        default="",
        help="comma-separated KNOCK_NAME=value settings for every Knock server started",
    )
    parser.add_argument(
        "--commit",
        default="",
        help="bench this commit (git archive of src/ and migrations/ into a temporary "
        "directory) instead of the working tree, which others may be editing",
    )
    parser.add_argument(
        "--node-cpu",
        type=float,
        default=0.0,
        help="share of one CPU each Knock node of the multinode scenarios may use (a CFS "
        "quota in a cgroup of its own, needs root): where the machine has too few CPUs for a "
        "core per node, the nodes rather than the machine are then the limit; 0: no cap",
    )
    parser.add_argument(
        "--steps",
        default="",
        help="comma-separated msg/s for the saturation scenarios, instead of the default "
        "steps (a finer grid around a knee, e.g. 75,100,125,150,175,200)",
    )
    parser.add_argument(
        "--p99-limit",
        type=float,
        default=P99_LIMIT_MS,
        help="ms: a saturation step passes while its delivery and send-lag p99 stay "
        "within this (and nothing is lost or refused); the knee is the last step that passes",
    )
    parser.add_argument(
        "--surge-knee",
        type=float,
        default=0.0,
        help="msg/s into a 100-member group the surge scenario takes as Knock's knee "
        "(normal = half of it, the surge ten times it); default bench.surge.KNEE",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the server under load (uv run --with py-spy python -m bench --profile)",
    )
    return parser.parse_args()


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextlib.contextmanager
def without_collector() -> Iterator[None]:
    """Keep the generator's own pauses out of the figures: once a surge has made a few
    hundred thousand objects (outcomes, tasks, futures), each pass of Python's cyclic
    collector stopped the generator's loop for 1.7-2.4 s, and every answer and frame of
    that second was timestamped late and every send of it went out late. Meanwhile
    reference counting frees what it can; cycles wait for the scenario's end."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    options = Options(
        quick=args.quick,
        pin=not args.no_pin,
        setup=args.setup,
        postgres=args.postgres,
        redis=args.redis,
        profile_dir=str(Path(args.out) / "profiles") if args.profile else "",
        surge_knee=args.surge_knee,
        node_cpu=args.node_cpu,
        steps=tuple(sorted(int(r) for r in args.steps.split(",") if r.strip())),
        p99_limit_ms=args.p99_limit,
    )
    scenarios = catalog(options)
    # The long ones (minutes each, PostgreSQL for multinode) run in the full run or by name.
    wanted = [s for s in args.only.split(",") if s] or [
        s for s in scenarios if not (args.quick and s in NOT_IN_QUICK)
    ]
    unknown = [s for s in wanted if s not in scenarios]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; know {', '.join(scenarios)}")
    baselines = [b for b in (args.baselines or ("bare" if args.quick else "bare,raw")).split(",")]
    if any(b not in BASELINES for b in baselines):
        raise SystemExit(f"--baselines: choose from {', '.join(BASELINES)}")
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for name in wanted:
        function, with_baseline = scenarios[name]
        server_env = dict(kv.split("=", 1) for kv in args.server_env.split(",") if "=" in kv)
        targets: list[Any] = [KnockTarget(options.postgres, options.redis, server_env)]
        if with_baseline and not args.no_baseline:
            targets += [BASELINES[b]() for b in baselines]
        if args.peers and name in XMPP_SCENARIOS:
            targets += [p() for p in (EjabberdTarget, ProsodyTarget) if installed(p.kind)]
        options.current = name
        for target in targets:
            began = time.monotonic()
            print(f"# {name} on {target.name} ...", file=sys.stderr, flush=True)
            try:
                run_one = XMPP_SCENARIOS[name] if isinstance(target, XMPPTarget) else function
                with without_collector():
                    found = await asyncio.wait_for(run_one(target, options), 600)
            except Exception as exc:
                traceback.print_exc()
                log = target.server.log_tail() if target.server is not None else ""
                errors.append({"scenario": name, "target": target.name, "error": repr(exc)})
                if log:
                    print(log, file=sys.stderr)
                continue
            for row in found:
                row["target"] = target.name
                rows.append(row)
            print(f"#   done in {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
    return {"rows": rows, "errors": errors}


def snapshot(commit: str) -> tuple[str, str]:
    """Extract src/ and migrations/ of a commit; answers (directory, resolved commit)."""
    resolved = subprocess.run(
        ["git", "rev-parse", "--short", commit], capture_output=True, text=True, check=True
    ).stdout.strip()
    root = tempfile.mkdtemp(prefix=f"knock-bench-{resolved}-")
    archive = subprocess.run(
        ["git", "archive", resolved, "src", "migrations"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", root], input=archive, check=True)
    return root, resolved


def snapshot_pythonpath(root: str) -> str:
    """PYTHONPATH for code run from a snapshot: its src/ first, then this checkout (bench's
    own modules), then what was set already."""
    parts = (os.path.join(root, "src"), os.getcwd(), os.environ.get("PYTHONPATH", ""))
    return os.pathsep.join(p for p in parts if p)


def main() -> None:
    args = parse()
    source = ""
    if args.commit:
        root, args.commit = snapshot(args.commit)
        source = os.path.join(root, "src")
        sys.path.insert(0, source)  # the seeding code imports knock's models too
        os.environ["PYTHONPATH"] = snapshot_pythonpath(root)
    pinned = (not args.no_pin) and pin_self()
    _raise_nofile()
    import uvloop

    started = time.monotonic()
    info = machine()
    info["pinned"] = pinned
    info["database"] = "postgresql" if args.postgres else "sqlite"
    info["broker"] = "redis" if args.redis else "memory"
    if args.commit:
        info["commit"] = f"{args.commit} (snapshot)"
    try:
        result = uvloop.run(run(args))
    finally:
        if source:
            shutil.rmtree(os.path.dirname(source), ignore_errors=True)
    info["total_s"] = round(time.monotonic() - started, 1)
    if args.peers:
        info["peers"] = {k: version(k) for k in ("ejabberd", "prosody") if installed(k)}
    document = {"machine": info, **result}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"bench-{'quick' if args.quick else 'full'}-{stamp}.json"
    (out / name).write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    print(markdown(document))
    print(f"\nJSON: {out / name}", file=sys.stderr)
    if result["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
