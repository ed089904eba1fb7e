"""``python -m bench.plot OUT.json [MORE.json ...]``: latency against load, as a PNG.

Left: delivery p50 and p99 (log scale) against offered deliveries a second, from the
``group100-saturation`` steps of every server in the given runs (and ``multinode-N``).
Right, when a run has the ``surge`` scenario: its timeline, second by second: requests
admitted and refused (503, 429) and the delivery p99 of what got in.
Writes ``bench/latency_vs_load.png`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib
import orjson

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DEFAULT_OUT = Path(__file__).parent / "latency_vs_load.png"
COLOURS = {
    "knock": "tab:red",
    "bare": "tab:blue",
    "raw": "tab:cyan",
    "ejabberd": "tab:green",
    "prosody": "tab:purple",
    "knock x1 (PostgreSQL)": "tab:orange",
    "knock x2 (PostgreSQL)": "tab:brown",
}


def _series(documents: list[dict[str, Any]]) -> dict[str, list[tuple[float, float, float]]]:
    """server (or server + nodes) -> [(offered deliveries/s, p50 ms, p99 ms)], by load."""
    found: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for document in documents:
        for row in document["rows"]:
            scenario = row.get("scenario", "")
            if scenario == "group100-saturation":
                name = row["target"]
            elif scenario.startswith("multinode-"):
                spread = f", {row['groups']} groups" if row.get("groups", 1) > 1 else ""
                name = f"{row['target']} x{row['nodes']} (PostgreSQL{spread})"
            else:
                continue
            if row.get("deliveries"):
                load = row["offered_msgs_per_s"] * row["members"]
                found[name].append((load, row["p50_ms"], row["p99_ms"]))
    return {name: sorted(points) for name, points in found.items()}


def _surge(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    for document in documents:
        for row in document["rows"]:
            if row.get("scenario") == "surge":
                return row
    return None


def plot(documents: list[dict[str, Any]], out: Path) -> None:
    series, surge = _series(documents), _surge(documents)
    fig, axes = plt.subplots(1, 2 if surge else 1, figsize=(13 if surge else 7, 5), squeeze=False)
    ax = axes[0][0]
    for name, points in series.items():
        colour = COLOURS.get(name, COLOURS.get(name.split(" ")[0]))
        loads = [p[0] for p in points]
        ax.plot(loads, [p[2] for p in points], "o-", color=colour, label=f"{name} p99")
        ax.plot(loads, [p[1] for p in points], "x--", color=colour, alpha=0.6, label=f"{name} p50")
    ax.axhline(100, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.text(
        0.01,
        100,
        "100 ms (knee limit)",
        color="grey",
        fontsize=8,
        va="bottom",
        transform=ax.get_yaxis_transform(),
    )
    ax.set_yscale("log")
    ax.set_xlabel("offered deliveries / s (100-member group, msg/s x 100)")
    ax.set_ylabel("delivery latency, ms")
    ax.set_title("Latency against load (group100-saturation steps)")
    ax.grid(True, which="both", alpha=0.3)
    if series:
        ax.legend(fontsize=7, ncol=2)
    if surge:
        _plot_surge(axes[0][1], surge)
    date = next((d["machine"].get("date_utc", "") for d in documents), "")
    fig.suptitle(f"Knock bench, {date}; shared 2-CPU machine (see RESULTS.md)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def _plot_surge(ax: Any, surge: dict[str, Any]) -> None:
    timeline = surge["timeline"]
    seconds = [r["t_s"] for r in timeline]
    ax.bar(seconds, [r["admitted"] for r in timeline], color="tab:green", label="admitted (201)")
    ax.bar(
        seconds,
        [r["503"] for r in timeline],
        bottom=[r["admitted"] for r in timeline],
        color="tab:orange",
        label="refused 503 overloaded",
    )
    ax.bar(
        seconds,
        [r["429"] for r in timeline],
        bottom=[r["admitted"] + r["503"] for r in timeline],
        color="tab:purple",
        label="refused 429 rate_limited",
    )
    ax.set_xlabel("seconds since the start")
    ax.set_ylabel("requests / s")
    before, during, _ = surge["phase_s"]
    ax.axvspan(before, before + during, color="red", alpha=0.08, label="surge (10 x the knee)")
    right = ax.twinx()
    right.plot(
        [r["t_s"] for r in timeline if r["p99_ms"] is not None],
        [r["p99_ms"] for r in timeline if r["p99_ms"] is not None],
        "k.-",
        label="delivery p99 of admitted (ms)",
    )
    right.set_yscale("log")
    right.set_ylabel("delivery p99, ms")
    handles, labels = ax.get_legend_handles_labels()
    more, more_labels = right.get_legend_handles_labels()
    ax.legend(handles + more, labels + more_labels, fontsize=7, loc="upper right")
    ax.set_title("Surge: admitted, refused, and latency of what got in")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.plot", description=__doc__)
    parser.add_argument("runs", nargs="+", help="bench JSON files (bench/out/*.json)")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args()
    documents = [orjson.loads(Path(p).read_bytes()) for p in args.runs]
    plot(documents, Path(args.out))
    print(args.out)


if __name__ == "__main__":
    main()
