"""The markdown report: load tables, reconnect check, idle memory, Knock ÷ bare ratios."""

from __future__ import annotations

from typing import Any

from bench.runner import P99_LIMIT_MS
from bench.surge import surge_markdown

Row = dict[str, Any]


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _load_table(rows: list[Row]) -> list[str]:
    lines = [
        "| scenario | server | members | msg/s offered | deliveries/s | p50 ms | p95 ms | "
        "p99 ms | lost | µs CPU/delivery | server CPU | RSS MB | generator CPU | "
        "loop lag p99 ms | others on CPU 0 / 1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        name = r["scenario"]
        if name == "group100-saturation" or name.startswith("multinode-"):
            name += " ✓" if r.get("passed") else " ✗"
        if r.get("phase"):
            name += f" ({r['phase']})"
        lines.append(
            f"| {name} | {r['target']} | {r['members']} | {_f(r['offered_msgs_per_s'], 0)} | "
            f"{_f(r['deliveries_per_s'], 0)} | {_f(r['p50_ms'], 2)} | {_f(r['p95_ms'], 2)} | "
            f"{_f(r['p99_ms'], 2)} | {r['lost']} | {_f(r['cpu_us_per_delivery'])} | "
            f"{_pct(r['server_cpu_util'])} | {_f(r['rss_mb'])} | "
            f"{_pct(r['generator_cpu_util'])} | {_f(r['loop_lag_p99_ms'], 2)} | "
            f"{_pct(r.get('others_on_server_cpu'))} / {_pct(r.get('others_on_generator_cpu'))} |"
        )
    return lines


def _first(rows: list[Row], scenario: str, target: str) -> Row | None:
    return next((r for r in rows if r["scenario"] == scenario and r["target"] == target), None)


def _ratio(a: Any, b: Any) -> str:
    if a is None or b is None or not b or a != a or b != b:
        return "-"
    return f"{a / b:.2f}x"


def markdown(document: dict[str, Any]) -> str:
    m = document["machine"]
    rows: list[Row] = document["rows"]
    out = [
        f"## Knock bench — {m['date_utc']}",
        "",
        f"{m['nproc']} CPUs ({m['cpu_model']}), Python {m['python']}, commit {m['commit']}, "
        f"database {m['database']}, broker {m['broker']}, "
        f"{'server on CPU 0, generator on CPU 1' if m['pinned'] else 'not pinned'}; "
        f"`{m['command']}` took {m['total_s']} s.",
        "",
    ]
    load_rows = [r for r in rows if "p99_ms" in r and r["scenario"] != "reconnect-catchup"]
    if load_rows:
        out += ["### Load", "", *_load_table(load_rows), ""]
        saturation = [r for r in load_rows if r["scenario"] == "group100-saturation"]
        knees = {r["target"]: r.get("knee_msgs_per_s") for r in saturation}
        if knees:
            limit = saturation[0].get("p99_limit_ms", P99_LIMIT_MS)  # older runs had no other
            out.append(
                f"Knee (last step with p99 ≤ {limit:g} ms, no loss, every send accepted on "
                "time): "
                + ", ".join(
                    f"{t} {k} msg/s = {k * 100 if k else 0} deliveries/s"
                    if k
                    else f"{t} below the first step"
                    for t, k in knees.items()
                )
                + "."
            )
            ceilings = []
            for t in knees:
                steps = [r for r in load_rows if r["scenario"] == "group100-saturation"]
                cost = [r["cpu_us_per_delivery"] for r in steps if r["target"] == t]
                if cost and all(cost):
                    best = min(cost)
                    ceilings.append(f"{t} {1e6 / best:,.0f} deliveries/s ({best:.0f} µs each)")
            out.append("")
            out.append(
                "CPU-bound ceiling (one core ÷ the lowest CPU per delivery of the steps; robust "
                "to neighbours, unlike the latency knee): " + ", ".join(ceilings) + "."
            )
            out.append("")
    for r in rows:
        if r["scenario"] == "reconnect-catchup":
            out += [
                "### Reconnect and catch-up",
                "",
                "| server | members | msg/s | accepted | reconnects | resume→ready p50/p99 ms | "
                "missing | repeated | out of order | resync | verified |",
                "|---|---|---|---|---|---|---|---|---|---|---|",
                f"| {r['target']} | {r['members']} | {_f(r['offered_msgs_per_s'], 0)} | "
                f"{r['accepted']} | {r['reconnects']} | {_f(r['resume_ready_p50_ms'], 1)} / "
                f"{_f(r['resume_ready_p99_ms'], 1)} | {r['missing']} | {r['repeated']} | "
                f"{r['out_of_order']} | {r['resync_required']} | "
                f"{'yes' if r['verified'] else '**NO**'} |",
                "",
            ]
    for r in rows:
        if r["scenario"] == "surge":
            out += surge_markdown(r)
        if r["scenario"] == "receipts-storm" and r.get("phase") == "storm":
            out += [
                f"Receipts storm: {r['reads']} members marked the group read at once "
                f"({r['reads_ok']} answered 204 within {r['storm_s']} s, "
                f"{r['reads_refused_then_retried']} refusals retried after Retry-After); "
                f"{r['receipt_frames']} receipt and other non-message frames reached the "
                f"sockets ({r['receipt_frames_per_read']} per read); delivery p99 during the "
                f"storm {r['p99_ms']} ms.",
                "",
            ]
    families = {r.get("groups", 1): r for r in rows if "scaling_2_over_1" in r}
    for groups, multi in sorted(families.items()):
        spread = f", the load over {groups} groups" if groups > 1 else ""
        if multi.get("node_cpu_cap"):
            spread += f", each node capped at {multi['node_cpu_cap']:g} of a CPU"
        out += [
            f"Multinode (PostgreSQL + Redis, clients round-robin over the nodes{spread}): "
            f"scaling factor at the knee, 2 nodes ÷ 1 node = {multi['scaling_2_over_1'] or '-'}.",
            "",
        ]
        if multi.get("cpu_scaling_2_over_1"):
            out += [
                f"At {multi['cpu_scaling_at_msgs_per_s']} msg/s the Knock nodes spent "
                f"{multi['node_cpu_us_per_delivery_1_node']} µs CPU per delivery on one node "
                f"and {multi['node_cpu_us_per_delivery_2_nodes']} on two (summed; each "
                f"{' + '.join(str(c) for c in multi['node_cpu_us_per_delivery_2_nodes_each'])}"
                "): with a core per node two would scale "
                f"{multi['cpu_scaling_2_over_1']}x, or {multi['cpu_scaling_2_over_1_first_node']}x "
                "if both cost what the node pinned to CPU 0 did "
                "(PostgreSQL + Redis "
                f"{multi['db_broker_cpu_us_per_delivery_1_node']} / "
                f"{multi['db_broker_cpu_us_per_delivery_2_nodes']} µs per delivery).",
                "",
            ]
    costs = {r["target"]: r["requests"] for r in rows if r["scenario"] == "request-costs"}
    if costs:
        names = list(dict.fromkeys(n for c in costs.values() for n in c))
        targets = list(costs)
        out += [
            "### Server CPU per request (closed loop, 4 in flight unless named)",
            "",
            "| request | "
            + " | ".join(f"{t} µs CPU/request | {t} requests/s" for t in targets)
            + " |",
            "|---|" + "---|---|" * len(targets),
        ]
        for name in names:
            cells = []
            for t in targets:
                c = costs[t].get(name)
                cells += (
                    [_f(c["cpu_us_per_request"], 0), _f(c["requests_per_s"], 0)]
                    if c
                    else ["-", "-"]
                )
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    idle_rows = [r for r in rows if r["scenario"].startswith("idle-")]
    if idle_rows:
        out += [
            "### Idle connections",
            "",
            "| server | sockets open | connects/s | ms CPU per connect | RSS before → after MB | "
            "KiB per connection | idle CPU |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in idle_rows:
            out.append(
                f"| {r['target']} | {r['connections']} | {_f(r['connects_per_s'], 0)} | "
                f"{_f(r['connect_cpu_ms_each'], 2)} | {_f(r['rss_before_mb'])} → "
                f"{_f(r['rss_mb'])} | {_f(r['kib_per_connection'])} | "
                f"{r['idle_server_cpu_util'] * 100:.1f}% |"
            )
        out.append("")
    ratio_lines = []
    for scenario in ("dm-latency", "group100-steady", "group1000-fanout"):
        k, b = _first(rows, scenario, "knock"), _first(rows, scenario, "bare")
        if k and b:
            ratio_lines.append(
                f"| {scenario} | {_ratio(k['p50_ms'], b['p50_ms'])} | "
                f"{_ratio(k['p99_ms'], b['p99_ms'])} | "
                f"{_ratio(k['cpu_us_per_delivery'], b['cpu_us_per_delivery'])} | - | - |"
            )
    k, b = _first(rows, "group100-saturation", "knock"), _first(rows, "group100-saturation", "bare")
    if k and b:
        ratio_lines.append(
            f"| group100-saturation | - | - | - | "
            f"{_ratio(k.get('knee_msgs_per_s'), b.get('knee_msgs_per_s'))} | - |"
        )
    ki = next((r for r in idle_rows if r["target"] == "knock"), None)
    bi = next((r for r in idle_rows if r["target"] == "bare"), None)
    if ki and bi:
        ratio_lines.append(
            f"| {ki['scenario']} | - | - | - | - | "
            f"{_ratio(ki['kib_per_connection'], bi['kib_per_connection'])} |"
        )
    if ratio_lines:
        out += [
            "### Knock ÷ bare fan-out server (same machine, same run; lower is better except knee)",
            "",
            "| scenario | p50 | p99 | CPU/delivery | knee | memory/connection |",
            "|---|---|---|---|---|---|",
            *ratio_lines,
            "",
        ]
    out += _peer_ratios(rows)
    for e in document.get("errors", []):
        out.append(f"**error** {e['scenario']} on {e['target']}: {e['error']}")
    return "\n".join(out)


def _peer_ratios(rows: list[Row]) -> list[str]:
    """Knock as ratios to the XMPP peers measured in the same run (they store nothing)."""
    peers = [p for p in ("ejabberd", "prosody") if any(r["target"] == p for r in rows)]
    if not peers:
        return []
    lines = [
        "### Knock ÷ XMPP peers (same run; the peers keep no archive, Knock stores every "
        "message; lower is better except knee)",
        "",
        "| scenario | peer | p50 | p99 | CPU/delivery | knee |",
        "|---|---|---|---|---|---|",
    ]
    for peer in peers:
        for scenario in ("group100-steady", "group1000-fanout"):
            k, p = _first(rows, scenario, "knock"), _first(rows, scenario, peer)
            if k and p:
                lines.append(
                    f"| {scenario} | {peer} | {_ratio(k['p50_ms'], p['p50_ms'])} | "
                    f"{_ratio(k['p99_ms'], p['p99_ms'])} | "
                    f"{_ratio(k['cpu_us_per_delivery'], p['cpu_us_per_delivery'])} | - |"
                )
        k, p = (
            _first(rows, "group100-saturation", "knock"),
            _first(rows, "group100-saturation", peer),
        )
        if k and p:
            lines.append(
                f"| group100-saturation | {peer} | - | - | - | "
                f"{_ratio(k.get('knee_msgs_per_s'), p.get('knee_msgs_per_s'))} |"
            )
    return [*lines, ""]
