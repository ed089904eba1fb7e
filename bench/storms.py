"""Two scenarios about many at once: every member of a big group reading at the same moment
(``receipts-storm``), and the same load spread over several nodes (``multinode``)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bench.client import HTTPPool, now
from bench.runner import Options, Session, load, running
from bench.scenarios import group_saturation
from bench.targets import KnockTarget, Target

STORM_MEMBERS = 1000
STORM_RATE = 5.0  # msg/s into the group while everyone reads (the group1000-fanout load)
READ_ATTEMPTS = 4
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/0"


async def _read_with_backoff(pool: HTTPPool, request: bytes) -> tuple[int, int]:
    """Mark read, backing off on 429/503 as a Knock client does; (final status, refusals)."""
    refusals = 0
    status = 0
    for attempt in range(READ_ATTEMPTS):
        status, retry_after = await pool.send_for_retry(request)
        if status not in (429, 503):
            break
        refusals += 1
        floor = retry_after or 1.0
        await asyncio.sleep(floor + random.uniform(0, max(floor, 0.5 * 2**attempt)))
    return status, refusals


async def _storm(session: Session, group: str, delay_s: float) -> dict[str, Any]:
    """After ``delay_s``, every member marks the group read at once."""
    await asyncio.sleep(delay_s)
    began = now()
    users = session.world.users

    async def one(i: int) -> tuple[int, int]:
        pool = session.pool_for(i)
        body = b'{"up_to_seq": 1000000000}'
        request = pool.request_bytes(
            "POST", f"/api/v1/conversations/{group}/read", users[i].token, body
        )
        return await _read_with_backoff(pool, request)

    answers = await asyncio.gather(*(one(i) for i in range(len(users))))
    return {
        "reads": len(answers),
        "reads_ok": sum(1 for status, _ in answers if status == 204),
        "reads_refused_then_retried": sum(refused for _, refused in answers),
        "storm_s": round(now() - began, 2),
    }


async def receipts_storm(target: Target, options: Options) -> list[dict[str, Any]]:
    """Messages flow into a 1,000-member group; then everyone reads at once. Delivery p99
    before and during the storm, and how many receipt frames the storm caused."""
    members = STORM_MEMBERS
    duration = 10.0 if options.quick else 30.0
    async with running(target, options, members, groups=[list(range(members))]) as session:
        group = next(iter(session.world.conversations))

        def plan(i: int) -> tuple[str, int]:
            return group, i % members

        before = await load(session, plan, STORM_RATE, duration / 2, "calm")
        other0 = sum(r.other for r in session.received)
        storm_task = asyncio.create_task(_storm(session, group, duration / 4))
        during = await load(session, plan, STORM_RATE, duration, "storm")
        storm = await storm_task
        await asyncio.sleep(1.0)  # receipts are coalesced for up to 250 ms
        frames = sum(r.other for r in session.received) - other0
    rows = []
    for phase, row in (("calm", before), ("storm", during)):
        rows.append(
            {
                "scenario": "receipts-storm",
                "phase": phase,
                "members": members,
                "setup": session.world.setup,
                **row,
            }
        )
    rows[1].update(storm)
    rows[1]["receipt_frames"] = frames
    rows[1]["receipt_frames_per_read"] = round(frames / max(1, storm["reads_ok"]), 1)
    return rows


async def multinode(target: Target, options: Options, groups: int = 1) -> list[dict[str, Any]]:
    """group100-saturation on one node and on two, both on PostgreSQL + Redis, each client
    on a node round-robin; scaling = deliveries/s at the knee with 2 nodes ÷ 1 node. With
    ``groups`` > 1 the load is spread over that many 100-member groups."""
    if not isinstance(target, KnockTarget):
        return []
    postgres = options.postgres or PG_ADMIN
    redis = options.redis or REDIS
    rows: list[dict[str, Any]] = []
    knees: dict[int, Any] = {}
    for nodes in (1, 2):
        cluster = KnockTarget(
            postgres, redis, target.extra_env, nodes=nodes, node_cpu_cap=options.node_cpu
        )
        found = await group_saturation(cluster, options, groups)
        for row in found:
            row["scenario"] = f"multinode-{nodes}" if groups == 1 else f"multinode-spread-{nodes}"
            row["nodes"] = nodes
            row["node_cpu_cap"] = options.node_cpu
        knees[nodes] = found[0].get("knee_deliveries_per_s") if found else None
        rows += found
    one, two = knees.get(1), knees.get(2)
    projected = _cpu_scaling(rows)
    for row in rows:
        row["scaling_2_over_1"] = round(two / one, 2) if one and two else None
        row.update(projected)
    return rows


def _cpu_scaling(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Where two nodes cannot each have a core of their own, what they would scale to if
    they had, at the highest rate both runs passed. Two estimates: the nodes' CPU per
    delivery on one node ÷ on two (summed), times two; and one node's ÷ the first of the
    two's alone (pinned to the server's CPU, serving half the sockets and sends; its twin
    shares the other CPU with the generator), as if its twin cost the same. PostgreSQL's
    and Redis's CPU per delivery is given beside them: they would need headroom for twice
    the load."""
    passed = {
        nodes: {r["offered_msgs_per_s"]: r for r in rows if r["nodes"] == nodes and r["passed"]}
        for nodes in (1, 2)
    }
    common = sorted(set(passed[1]) & set(passed[2]))
    if not common:
        return {"cpu_scaling_2_over_1": None}
    rate = common[-1]
    one, two = passed[1][rate], passed[2][rate]
    c1, c2 = one.get("node_cpu_us_per_delivery"), two.get("node_cpu_us_per_delivery")
    first = (two.get("node_cpu_us_per_delivery_each") or [None])[0]
    if not c1 or not c2 or not first:
        return {"cpu_scaling_2_over_1": None}
    return {
        "cpu_scaling_2_over_1": round(2 * c1 / c2, 2),
        "cpu_scaling_2_over_1_first_node": round(c1 / first, 2),
        "cpu_scaling_at_msgs_per_s": rate,
        "node_cpu_us_per_delivery_1_node": c1,
        "node_cpu_us_per_delivery_2_nodes": c2,
        "node_cpu_us_per_delivery_2_nodes_each": two["node_cpu_us_per_delivery_each"],
        "db_broker_cpu_us_per_delivery_1_node": round(one["cpu_us_per_delivery"] - c1, 1),
        "db_broker_cpu_us_per_delivery_2_nodes": round(two["cpu_us_per_delivery"] - c2, 1),
    }
