"""group100-steady, group100-saturation and group1000-fanout against Prosody and ejabberd:
the same open-loop load, the same clock and the same metrics as for Knock (PEERS.md), with
a MUC room in place of a Knock group. The peers store nothing; Knock stores every message."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from bench.client import Received, now
from bench.metrics import LoopLag, own_cpu, pct, summary_ms
from bench.procs import GENERATOR_CPU, SERVER_CPU, cpu_busy
from bench.runner import TEXT_FILL, Options
from bench.scenarios import climb
from bench.targets import Target
from bench.xmpp.client import XMPPClient, connect
from bench.xmpp.servers import DOMAIN, MUC, ejabberd_server, prosody_server, version, workdir

DRAIN_MAX_S = 10.0
PASSWORD = "bench-password"  # noqa: S105 - bench users on loopback


class XMPPTarget(Target):
    kind = ""

    def __init__(self) -> None:
        super().__init__()
        self._dir: Path | None = None

    def start(self, pin: bool) -> None:
        self._dir = workdir()
        make = prosody_server if self.kind == "prosody" else ejabberd_server
        self.server = make(self._dir)
        self.port = self.server.port
        self.server.start(pin)

    def stop(self) -> None:
        super().stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    @property
    def version(self) -> str:
        return version(self.kind)


class ProsodyTarget(XMPPTarget):
    name = kind = "prosody"


class EjabberdTarget(XMPPTarget):
    name = kind = "ejabberd"


async def _room(target: Target, members: int) -> tuple[list[XMPPClient], list[Received], float]:
    """Everyone registers in-band, signs in and joins one room; answers the clients."""
    room = f"bench@{MUC}"
    received = [Received() for _ in range(members)]
    gate = asyncio.Semaphore(32)
    started = now()

    async def one(i: int) -> XMPPClient:
        async with gate:
            client = await connect(target.host, target.port, DOMAIN, received[i])
            await client.open_stream()
            await client.register(f"u{i}", PASSWORD)
            await client.sign_in(f"u{i}", PASSWORD)
            return client

    clients = await asyncio.gather(*(one(i) for i in range(members)))
    await clients[0].join(room, "u0", owner=True)
    joins = asyncio.Semaphore(16)

    async def join(i: int) -> None:
        async with joins:
            await clients[i].join(room, f"u{i}", owner=False)

    await asyncio.gather(*(join(i) for i in range(1, members)))
    await asyncio.sleep(0.5)  # the last joiners' presence reaches everyone
    for client in clients:
        client.go_live()
    return clients, received, now() - started


async def xmpp_load(
    target: Target,
    clients: list[XMPPClient],
    received: list[Received],
    rate: float,
    duration_s: float,
    tag: str,
) -> dict[str, Any]:
    """Send ``rate`` groupchat messages a second (open loop, round-robin), drain, measure."""
    assert target.server is not None
    room = f"bench@{MUC}"
    members = len(clients)
    count = max(1, round(rate * duration_s))
    starts = [len(r.frames) for r in received]
    sent: dict[bytes, float] = {}
    send_lag: list[float] = []
    lag = LoopLag()
    lag.start()
    cpu0, gen0 = target.server.cpu(), own_cpu()
    busy0 = (cpu_busy(SERVER_CPU), cpu_busy(GENERATOR_CPU))
    t0 = now()
    for i in range(count):
        scheduled = t0 + i / rate
        delay = scheduled - now()
        if delay > 0:
            await asyncio.sleep(delay)
        key = f"{tag}-{i}"
        client = clients[i % members]
        payload = client.message_bytes(room, key, TEXT_FILL)
        t = now()
        sent[key.encode()] = t
        send_lag.append(t - scheduled)
        assert client.transport is not None
        client.transport.write(payload)
    expected = count * members
    drain = now()
    while now() - drain < DRAIN_MAX_S:
        if sum(len(r.frames) - s for r, s in zip(received, starts, strict=True)) >= expected:
            break
        await asyncio.sleep(0.01)
    cpu1, gen1, t1 = target.server.cpu(), own_cpu(), now()
    busy1 = (cpu_busy(SERVER_CPU), cpu_busy(GENERATOR_CPU))
    lag_stats = lag.stop()
    latencies: list[float] = []
    last = 0.0
    for rec, start in zip(received, starts, strict=True):
        seen: set[bytes] = set()
        for t, _n, key in rec.frames[start:]:
            at = sent.get(key)
            if at is None or key in seen:
                continue
            seen.add(key)
            latencies.append(t - at)
            last = max(last, t)
    deliveries = len(latencies)
    window = max(last - min(sent.values()), 1e-9) if deliveries else t1 - t0
    server_cpu = cpu1 - cpu0
    wall = max(t1 - t0, 1e-9)
    return {
        "offered_msgs_per_s": rate,
        "duration_s": duration_s,
        "messages": count,
        "accepted": count,  # XMPP has no per-message answer; loss shows in "lost"
        "expected": expected,
        "deliveries": deliveries,
        "lost": expected - deliveries,
        **summary_ms(latencies),
        "deliveries_per_s": round(deliveries / window, 1),
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_util": round(server_cpu / wall, 3),
        "cpu_us_per_delivery": round(server_cpu / deliveries * 1e6, 1) if deliveries else None,
        "rss_mb": round(target.server.rss() / 2**20, 1),
        "generator_cpu_util": round((gen1 - gen0) / wall, 3),
        "others_on_server_cpu": round(max(0.0, busy1[0] - busy0[0] - server_cpu) / wall, 3),
        "others_on_generator_cpu": round(max(0.0, busy1[1] - busy0[1] - (gen1 - gen0)) / wall, 3),
        **lag_stats,
        "send_lag_p99_ms": round(pct(sorted(send_lag), 0.99) * 1000, 2),
    }


async def xmpp_steady(
    target: Target, options: Options, members: int, rate: float, name: str
) -> list[dict[str, Any]]:
    await asyncio.to_thread(target.start, options.pin)
    try:
        clients, received, setup_s = await _room(target, members)
        row = await xmpp_load(target, clients, received, rate, 10 if options.quick else 30, name)
        for client in clients:
            client.close()
        return [{"scenario": name, "members": members, "setup_s": round(setup_s, 1), **row}]
    finally:
        await asyncio.to_thread(target.stop)


async def xmpp_saturation(target: Target, options: Options) -> list[dict[str, Any]]:
    members = 100
    step_s = 5 if options.quick else 10
    await asyncio.to_thread(target.start, options.pin)
    try:
        clients, received, _ = await _room(target, members)

        async def step(tag: str, rate: int) -> dict[str, Any]:
            row = await xmpp_load(target, clients, received, rate, step_s, tag)
            return {"scenario": "group100-saturation", "members": members, **row}

        rows, knee = await climb(step, options)
        for client in clients:
            client.close()
    finally:
        await asyncio.to_thread(target.stop)
    for row in rows:
        row["knee_msgs_per_s"] = knee
        row["knee_deliveries_per_s"] = knee * members if knee else None
    return rows


XMPP_SCENARIOS = {
    "group100-steady": lambda t, o: xmpp_steady(t, o, 100, 50.0, "group100-steady"),
    "group100-saturation": xmpp_saturation,
    "group1000-fanout": lambda t, o: xmpp_steady(t, o, 1000, 5.0, "group1000-fanout"),
}
