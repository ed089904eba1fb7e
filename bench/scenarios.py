"""The scenarios. Each starts a fresh server, sets up its world, measures, stops it."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable
from typing import Any

from bench.client import connect_ws, now
from bench.metrics import pct
from bench.runner import Options, Session, load, running
from bench.surge import surge
from bench.targets import Target

SATURATION_STEPS = [50, 100, 150, 200, 250, 300, 400, 500, 600, 700, 800]
# The full run goes on where the quick one stops (which has no time left in its 5 minutes):
# on a quiet machine Knock and the bare server pass 800.
FULL_EXTRA_STEPS = [1000, 1200, 1500, 2000]
BELOW_STEPS = [40, 30, 20, 10]  # only when the first step already fails

Row = dict[str, Any]


def _duration(options: Options, quick: float, full: float) -> float:
    return quick if options.quick else full


def saturation_steps(options: Options) -> list[int]:
    if options.steps:
        return list(options.steps)
    return SATURATION_STEPS if options.quick else SATURATION_STEPS + FULL_EXTRA_STEPS


def _only_group(session: Session) -> str:
    return next(iter(session.world.conversations))


async def dm_latency(target: Target, options: Options) -> list[Row]:
    pairs = 50
    dms = [(2 * p, 2 * p + 1) for p in range(pairs)]
    async with running(target, options, 2 * pairs, dms=dms, api_setup=True) as session:
        by_pair = {tuple(m): c for c, m in session.world.conversations.items()}
        order = [by_pair[(a, b)] for a, b in dms]

        def plan(i: int) -> tuple[str, int]:
            pair = i % pairs
            return order[pair], 2 * pair + (i // pairs) % 2

        rate = 50.0
        row = await load(session, plan, rate, _duration(options, 10, 30), "dm")
        return [
            {
                "scenario": "dm-latency",
                "members": 2,
                "setup": session.world.setup,
                "setup_s": round(session.world.setup_s, 1),
                **row,
            }
        ]


async def group_steady(
    target: Target, options: Options, members: int, rate: float, name: str
) -> list[Row]:
    async with running(target, options, members, groups=[list(range(members))]) as session:
        group = _only_group(session)
        row = await load(
            session, lambda i: (group, i % members), rate, _duration(options, 10, 30), name
        )
        return [
            {
                "scenario": name,
                "members": members,
                "setup": session.world.setup,
                "setup_s": round(session.world.setup_s, 1),
                **row,
            }
        ]


def step_tag(index: int, rate: int) -> str:
    """A saturation step's tag (its messages' client_msg_ids start with it): by its place,
    not its rate alone, so that a rate given twice in ``--steps`` does not resend the
    earlier step's client_msg_ids, which a server answers as retries."""
    return f"s{index}-{rate}"


def passes(row: Row, options: Options) -> bool:
    """A saturation step passes when nothing was lost or refused and both the delivery
    p99 and the senders' lag p99 stay within the limit. (The XMPP peers' rows have no
    ``accepted``: an XMPP send is not answered.)"""
    limit = options.p99_limit_ms
    return (
        row["p99_ms"] <= limit
        and row["lost"] == 0
        and row.get("accepted", row["messages"]) == row["messages"]
        and row["send_lag_p99_ms"] <= limit
    )


async def climb(
    step: Callable[[str, int], Awaitable[Row]], options: Options
) -> tuple[list[Row], int | None]:
    """Run the saturation's rates in order until one fails; the knee is the last that
    passed. When the first already fails, step down through the rates below it until
    one passes. ``step(tag, rate)`` sends at that rate, its messages tagged ``tag``, and
    returns its row; the rows come back marked ``passed``, with the knee (None: not even
    the lowest rate passed)."""
    rows: list[Row] = []

    async def run(rate: int) -> bool:
        row = await step(step_tag(len(rows), rate), rate)
        row["passed"] = passes(row, options)
        row["p99_limit_ms"] = options.p99_limit_ms
        rows.append(row)
        return bool(row["passed"])

    rates = saturation_steps(options)
    knee = None
    for rate in rates:
        if not await run(rate):
            break
        knee = rate
        await asyncio.sleep(0.5)
    if knee is None:
        for rate in [r for r in BELOW_STEPS if r < rates[0]]:
            await asyncio.sleep(2.0)
            if await run(rate):
                knee = rate
                break
    return rows, knee


async def group_saturation(target: Target, options: Options, groups: int = 1) -> list[Row]:
    """Rising rates into a 100-member group until p99 passes the limit; with ``groups`` > 1
    the same rates spread over that many 100-member groups (message i to group i mod
    groups), still 100 deliveries a message."""
    members = 100
    step_s = _duration(options, 5, 10)
    people = [list(range(g * members, (g + 1) * members)) for g in range(groups)]
    async with running(target, options, members * groups, groups=people) as session:
        conversations = list(session.world.conversations.items())

        def pick(i: int) -> tuple[str, int]:
            conversation, member_indexes = conversations[i % groups]
            return conversation, member_indexes[(i // groups) % members]

        async def step(tag: str, rate: int) -> Row:
            row = await load(session, pick, rate, step_s, tag)
            return {"scenario": "group100-saturation", "members": members, **row}

        rows, knee = await climb(step, options)
    for row in rows:
        row["groups"] = groups
        row["knee_msgs_per_s"] = knee
        row["knee_deliveries_per_s"] = knee * members if knee else None
    return rows


async def reconnect_catchup(target: Target, options: Options) -> list[Row]:
    """Every client drops now and then and resumes with its last cursor; afterwards each
    must hold every accepted message exactly once, in cursor order."""
    members, rate = 100, 20.0
    async with running(target, options, members, groups=[list(range(members))]) as session:
        group = _only_group(session)
        users, received = session.world.users, session.received
        starts = [len(r.frames) for r in received]
        stop = asyncio.Event()
        ready_s: list[float] = []
        failures: list[str] = []

        async def churn(i: int) -> None:
            rng = random.Random(i)
            while not stop.is_set():
                await asyncio.sleep(rng.uniform(0.5, 3.0))
                client = session.clients[i]
                if client is not None:
                    client.drop()
                session.clients[i] = None
                await asyncio.sleep(rng.uniform(0.05, 1.0))
                for _ in range(5):
                    path = target.ws_path(users[i], cursor=received[i].last_cursor)
                    began = now()
                    try:
                        session.clients[i] = await connect_ws(
                            target.host, target.port, path, received[i]
                        )
                        ready_s.append(now() - began)
                        break
                    except (ConnectionError, OSError, TimeoutError) as exc:
                        failures.append(repr(exc))
                        await asyncio.sleep(0.2)

        churners = [asyncio.create_task(churn(i)) for i in range(members)]

        async def settle() -> None:
            stop.set()
            await asyncio.gather(*churners)

        accepted: set[bytes] = set()
        row = await load(
            session,
            lambda i: (group, i % members),
            rate,
            _duration(options, 10, 30),
            "rc",
            after_send=settle,
            accepted_keys=accepted,
        )
        # Exactly once, in order, per user.
        missing = repeated = disorder = 0
        for rec, start in zip(received, starts, strict=True):
            frames = rec.frames[start:]
            keys = [k for _, _, k in frames]
            missing += len(accepted - set(keys))
            repeated += len(keys) - len(set(keys))
            cursors = [c for _, c, _ in frames]
            disorder += sum(1 for a, b in itertools.pairwise(cursors) if b <= a)
        ordered = sorted(ready_s)
        row.update(
            {
                "scenario": "reconnect-catchup",
                "members": members,
                "setup": session.world.setup,
                "setup_s": round(session.world.setup_s, 1),
                "reconnects": len(ready_s),
                "reconnect_failures": len(failures),
                "resync_required": sum(r.resyncs for r in received),
                "resume_ready_p50_ms": round(pct(ordered, 0.5) * 1000, 2),
                "resume_ready_p99_ms": round(pct(ordered, 0.99) * 1000, 2),
                "missing": missing,
                "repeated": repeated,
                "out_of_order": disorder,
                "verified": missing == repeated == disorder == 0
                and row["lost"] == 0
                and len(accepted) == row["accepted"],
            }
        )
        return [row]


async def idle(target: Target, options: Options) -> list[Row]:
    count = 1000 if options.quick else 10_000
    async with running(target, options, count, connect=False) as session:
        assert target.server is not None
        await asyncio.sleep(0.5)
        before = target.server.rss()
        cpu0 = target.server.cpu()
        per_s = await session.connect()
        await asyncio.sleep(2.0)
        after = target.server.rss()
        idle_cpu0, t0 = target.server.cpu(), now()
        await asyncio.sleep(3.0)
        idle_cpu = (target.server.cpu() - idle_cpu0) / (now() - t0)
        connected = sum(1 for c in session.clients if c is not None and not c.closed.done())
        return [
            {
                "scenario": f"idle-{count}",
                "members": count,
                "setup": session.world.setup,
                "setup_s": round(session.world.setup_s, 1),
                "connections": connected,
                "connects_per_s": round(per_s, 1),
                "connect_cpu_ms_each": round((idle_cpu0 - cpu0) / count * 1000, 3),
                "rss_before_mb": round(before / 2**20, 1),
                "rss_mb": round(after / 2**20, 1),
                "kib_per_connection": round((after - before) / count / 1024, 1),
                "idle_server_cpu_util": round(idle_cpu, 4),
            }
        ]


async def request_costs(target: Target, options: Options) -> list[Row]:
    """Server CPU per request, closed loop (4 in flight), by kind of request: the framework
    floor (health), + token check (/me), + a read transaction (a page of messages), + a
    send (write transaction, fsync, event, fan-out to the two sockets of a dm). The send
    again one at a time, back to back and then 25 ms apart ("lone"): a request that finds
    the server idle costs it more CPU than one that finds it busy (a virtual CPU woken
    from idle runs cold), which is what the open-loop scenarios at low rates pay."""
    count = 200 if options.quick else 1000
    async with running(target, options, 2, dms=[(0, 1)], api_setup=True) as session:
        assert target.server is not None
        dm = _only_group(session)
        token = session.world.users[0].token
        pool = session.pool
        kinds: dict[str, Callable[[int], bytes]] = {
            "GET /health": lambda i: pool.request_bytes("GET", "/api/v1/health", token, b""),
        }
        if target.name == "knock":
            kinds["GET /me"] = lambda i: pool.request_bytes("GET", "/api/v1/me", token, b"")
            kinds["GET messages?limit=1"] = lambda i: pool.request_bytes(
                "GET", f"/api/v1/conversations/{dm}/messages?limit=1", token, b""
            )

        def send(i: int, sender: str = token) -> bytes:
            body = f'{{"client_msg_id":"rq-{i}","text":"request cost {i}"}}'.encode()
            return pool.request_bytes("POST", f"/api/v1/conversations/{dm}/messages", sender, body)

        kinds["POST message (dm)"] = send
        # name -> (request, how many, in flight, pause after each). The one-at-a-time sends
        # come from the other member: each login may send a burst of 200, then 20 a second.
        plans: dict[str, tuple[Callable[[int], bytes], int, int, float]] = {
            name: (make, count, 4, 0.0) for name, make in kinds.items()
        }
        other = session.world.users[1].token
        plans["POST message (dm), 1 in flight"] = (lambda i: send(10**6 + i, other), 100, 1, 0.0)
        plans["POST message (dm), lone (25 ms apart)"] = (
            lambda i: send(2 * 10**6 + i, other),
            100,
            1,
            0.025,
        )
        results = {}
        for name, (make, requests, in_flight, pause) in plans.items():
            statuses: list[int] = []
            todo = iter(range(requests))

            async def worker(
                make: Callable[[int], bytes] = make,
                todo: Any = todo,
                statuses: list[int] = statuses,
                pause: float = pause,
            ) -> None:
                for i in todo:
                    status, _ = await pool.send(make(i))
                    statuses.append(status)
                    if pause:
                        await asyncio.sleep(pause)

            await asyncio.sleep(0.3)
            cpu0, t0 = target.server.cpu(), now()
            await asyncio.gather(*(worker() for _ in range(in_flight)))
            cpu, wall = target.server.cpu() - cpu0, now() - t0
            ok = sum(1 for st in statuses if st < 300)
            if ok < requests:  # refusals cost next to nothing: the figure would mislead
                name = f"{name} ({requests - ok} of {requests} refused)"
            results[name] = {
                "requests": requests,
                "ok": ok,
                "cpu_us_per_request": round(cpu / requests * 1e6, 1),
                "requests_per_s": round(requests / wall, 1),
            }
        return [{"scenario": "request-costs", "members": 2, "requests": results}]


Scenario = Callable[[Target, Options], Any]


def catalog(options: Options) -> dict[str, tuple[Scenario, bool]]:
    """name -> (function, also run on the bare baseline)."""
    from bench.storms import multinode, receipts_storm  # they build on this module

    return {
        "request-costs": (request_costs, True),
        "dm-latency": (dm_latency, True),
        "group100-steady": (
            lambda t, o: group_steady(t, o, 100, 50.0, "group100-steady"),
            True,
        ),
        "group100-saturation": (group_saturation, True),
        "group1000-fanout": (
            lambda t, o: group_steady(t, o, 1000, 5.0, "group1000-fanout"),
            True,
        ),
        "reconnect-catchup": (reconnect_catchup, False),
        "surge": (surge, False),
        "receipts-storm": (receipts_storm, False),
        "multinode": (multinode, False),
        # The same over four groups: sends to one conversation queue on its row's lock.
        "multinode-spread": (lambda t, o: multinode(t, o, groups=4), False),
        "idle": (idle, True),
    }
