"""One started server with its users connected, and the measured load phase."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.client import HTTPPool, Received, WSClient, connect_ws, now
from bench.metrics import LoopLag, own_cpu, pct, summary_ms
from bench.procs import GENERATOR_CPU, SERVER_CPU, cpu_busy
from bench.targets import API_SETUP_MAX, Target, World

DRAIN_MAX_S = 10.0
HTTP_POOL = 64
CONNECT_CONCURRENCY = 64
QUICK_API_PEOPLE = 20
TEXT_FILL = "the quick brown fox jumps over the lazy dog"


P99_LIMIT_MS = 100.0


@dataclass
class Options:
    quick: bool
    pin: bool
    setup: str  # auto | api | seed
    postgres: str = ""
    redis: str = ""
    profile_dir: str = ""  # py-spy the server during each scenario's load (raw stacks)
    current: str = ""  # the scenario running now (names the profile)
    surge_knee: float = 0.0  # msg/s the surge scenario takes as the knee (0: surge.KNEE)
    node_cpu: float = 0.0  # share of one CPU each multinode node may use (0: no cap)
    steps: tuple[int, ...] = ()  # the saturation's rates in msg/s (empty: the defaults)
    p99_limit_ms: float = P99_LIMIT_MS  # a saturation step passes with p99s up to this


class Session:
    """A running target, its world, one WebSocket per user and an HTTP pool for senders."""

    def __init__(self, target: Target, world: World) -> None:
        self.target = target
        self.world = world
        self.received = [Received() for _ in world.users]
        self.clients: list[WSClient | None] = [None] * len(world.users)
        ports = target.ports
        self.pools = [HTTPPool(target.host, p, max(8, HTTP_POOL // len(ports))) for p in ports]
        self.pool = self.pools[0]

    def pool_for(self, user_index: int) -> HTTPPool:
        """The pool to the node this user's clients talk to (round-robin over nodes)."""
        return self.pools[user_index % len(self.pools)]

    async def connect(self, indexes: list[int] | None = None) -> float:
        """Connect these users (default: all); answers the connections per second."""
        todo = list(range(len(self.world.users))) if indexes is None else indexes
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(i: int) -> None:
            async with gate:
                path = self.target.ws_path(self.world.users[i])
                self.clients[i] = await connect_with_backoff(
                    self.target.host, self.target.port_for(i), path, self.received[i]
                )

        started = now()
        await asyncio.gather(*(one(i) for i in todo))
        return len(todo) / max(now() - started, 1e-9)

    async def close(self) -> None:
        for client in self.clients:
            if client is not None:
                client.drop()
        for pool in self.pools:
            pool.close()
        self.pool.close()
        await asyncio.sleep(0.05)


async def connect_with_backoff(
    host: str, port: int, path: str, received: Received, attempts: int = 8
) -> WSClient:
    """Connect, and when refused wait as a Knock client does: the server's Retry-After
    (503 while it sheds a connect storm) or an exponential ceiling, plus full jitter."""
    for attempt in range(attempts):
        try:
            return await connect_ws(host, port, path, received)
        except (ConnectionError, OSError, TimeoutError) as exc:
            if attempt == attempts - 1:
                raise
            ceiling = min(8.0, 0.25 * 2**attempt)
            floor = getattr(exc, "retry_after", None) or 0.0
            await asyncio.sleep(floor + random.uniform(0, max(floor, ceiling)))
    raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def running(
    target: Target,
    options: Options,
    n_users: int,
    groups: list[list[int]] | None = None,
    dms: list[tuple[int, int]] | None = None,
    connect: bool = True,
    api_setup: bool = False,
) -> AsyncIterator[Session]:
    """A fresh server (restarted for every scenario, as PEERS.md asks) with its world.

    Setup "auto": people register over the API when there are at most API_SETUP_MAX of
    them; otherwise they are seeded into the database. A quick run registers only
    QUICK_API_PEOPLE over the API, and only where ``api_setup`` asks (argon2id on the
    server's one core would otherwise take most of the five minutes).
    """
    mode = options.setup
    if mode == "auto":
        if options.quick:
            mode = f"api:{QUICK_API_PEOPLE}" if api_setup else "seed"
        else:
            mode = "api" if n_users <= API_SETUP_MAX else "seed"
    await asyncio.to_thread(target.start, options.pin)
    session: Session | None = None
    try:
        world = await target.make_world(n_users, groups or [], dms or [], mode)
        session = Session(target, world)
        if connect:
            await session.connect()
        with profiled(target, options):
            yield session
    finally:
        if session is not None:
            await session.close()
        await asyncio.to_thread(target.stop)


@contextlib.contextmanager
def profiled(target: Target, options: Options) -> Iterator[None]:
    """py-spy record the server (collapsed stacks) while the block runs, if asked."""
    spy = shutil.which("py-spy")
    if not options.profile_dir or spy is None or target.server is None:
        yield
        return
    assert target.server.process is not None
    Path(options.profile_dir).mkdir(parents=True, exist_ok=True)
    out = Path(options.profile_dir) / f"{options.current}-{target.name}.txt"
    recorder = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(target.server.process.pid),
            "--format",
            "raw",
            "--rate",
            "200",
            "--nonblocking",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(30)
        except subprocess.TimeoutExpired:
            recorder.kill()


Plan = Callable[[int], tuple[str, int]]  # message index -> (conversation id, sender index)


async def load(
    session: Session,
    plan: Plan,
    rate: float,
    duration_s: float,
    tag: str,
    *,
    after_send: Callable[[], Awaitable[None]] | None = None,
    accepted_keys: set[bytes] | None = None,
) -> dict[str, Any]:
    """Send ``rate`` messages a second for ``duration_s`` (open loop), drain, measure."""
    target, world = session.target, session.world
    assert target.server is not None
    count = max(1, round(rate * duration_s))
    start_counts = [len(r.frames) for r in session.received]
    sent: dict[bytes, float] = {}
    send_lag: list[float] = []
    http_latency: list[float] = []
    statuses: Counter[str] = Counter()
    expected = 0
    members = {cid: len(m) for cid, m in world.conversations.items()}
    tokens = [u.token for u in world.users]
    fill = TEXT_FILL

    async def one(i: int, scheduled: float) -> None:
        nonlocal expected
        conversation_id, sender = plan(i)
        cmid = f"{tag}-{i}"
        key = cmid.encode()
        body = orjson.dumps({"client_msg_id": cmid, "text": f"bench {cmid} {fill}"})
        pool = session.pool_for(sender)
        request = pool.request_bytes(
            "POST", f"/api/v1/conversations/{conversation_id}/messages", tokens[sender], body
        )

        def on_write() -> None:
            t = now()
            sent[key] = t
            send_lag.append(t - scheduled)

        try:
            status, _ = await pool.send(request, on_write)
        except Exception as exc:
            statuses[type(exc).__name__] += 1
            sent.pop(key, None)
            return
        statuses[str(status)] += 1
        if status in (200, 201):
            http_latency.append(now() - sent[key])
            expected += members[conversation_id]
        else:
            sent.pop(key, None)

    lag = LoopLag()
    lag.start()
    cpu0, gen0, rss0 = target.server.cpu(), own_cpu(), target.server.rss()
    node0 = target.node_cpus()
    busy0 = (cpu_busy(SERVER_CPU), cpu_busy(GENERATOR_CPU))
    t0 = now()
    tasks = []
    for i in range(count):
        scheduled = t0 + i / rate
        delay = scheduled - now()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    send_end = now()
    if accepted_keys is not None:
        accepted_keys.update(sent)
    if after_send is not None:
        await after_send()
    drain_start = now()
    while now() - drain_start < DRAIN_MAX_S:
        got = sum(len(r.frames) - s for r, s in zip(session.received, start_counts, strict=True))
        if got >= expected:
            break
        await asyncio.sleep(0.01)
    cpu1, gen1, t1 = target.server.cpu(), own_cpu(), now()
    node1 = target.node_cpus()
    busy1 = (cpu_busy(SERVER_CPU), cpu_busy(GENERATOR_CPU))
    rss1 = target.server.rss()
    lag_stats = lag.stop()

    latencies: list[float] = []
    duplicates = 0
    last_receive = 0.0
    for rec, start in zip(session.received, start_counts, strict=True):
        seen: set[bytes] = set()
        for t, _cursor, key in rec.frames[start:]:
            sent_at = sent.get(key)
            if sent_at is None:
                continue
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            latencies.append(t - sent_at)
            last_receive = max(last_receive, t)
    deliveries = len(latencies)
    first_send = min(sent.values(), default=t0)
    window = max(last_receive - first_send, 1e-9) if deliveries else t1 - t0
    server_cpu = cpu1 - cpu0
    ordered_lag = sorted(send_lag)
    ordered_http = sorted(http_latency)
    ok = len(http_latency)
    return {
        "offered_msgs_per_s": rate,
        "duration_s": duration_s,
        "messages": count,
        "accepted": ok,
        "statuses": dict(statuses),
        "achieved_send_per_s": round(ok / max(send_end - t0, 1e-9), 1),
        "expected": expected,
        "deliveries": deliveries,
        "lost": expected - deliveries,
        "duplicates": duplicates,
        **summary_ms(latencies),
        "deliveries_per_s": round(deliveries / window, 1),
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_util": round(server_cpu / max(t1 - t0, 1e-9), 3),
        "cpu_us_per_delivery": round(server_cpu / deliveries * 1e6, 1) if deliveries else None,
        # The server's own processes alone (the above adds its PostgreSQL backends and Redis).
        "node_cpu_us_per_delivery": (
            round((sum(node1) - sum(node0)) / deliveries * 1e6, 1) if deliveries else None
        ),
        # Node by node (of every delivery, not only the node's own).
        "node_cpu_us_per_delivery_each": [
            round((b - a) / deliveries * 1e6, 1) if deliveries else None
            for a, b in zip(node0, node1, strict=True)
        ],
        "rss_mb": round(rss1 / 2**20, 1),
        "rss_start_mb": round(rss0 / 2**20, 1),
        "generator_cpu_util": round((gen1 - gen0) / max(t1 - t0, 1e-9), 3),
        # Noise: how busy the two CPUs were with everything else (other people's work).
        "others_on_server_cpu": round(
            max(0.0, busy1[0] - busy0[0] - server_cpu) / max(t1 - t0, 1e-9), 3
        ),
        "others_on_generator_cpu": round(
            max(0.0, busy1[1] - busy0[1] - (gen1 - gen0)) / max(t1 - t0, 1e-9), 3
        ),
        **lag_stats,
        "send_lag_p99_ms": round(pct(ordered_lag, 0.99) * 1000, 2),
        "http_p50_ms": round(pct(ordered_http, 0.5) * 1000, 2),
        "http_p99_ms": round(pct(ordered_http, 0.99) * 1000, 2),
    }
