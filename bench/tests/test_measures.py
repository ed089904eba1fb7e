"""The bench's own arithmetic: what it reports must follow from what it measured."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import pytest

from bench.procs import Server, cap_cpu, cpu_by_pid
from bench.runner import Options
from bench.scenarios import (
    FULL_EXTRA_STEPS,
    SATURATION_STEPS,
    climb,
    group_saturation,
    passes,
    saturation_steps,
)
from bench.storms import _cpu_scaling
from bench.surge import Outcome, _recovery_s, _timeline
from bench.targets import KnockTarget


def _step(nodes: int, rate: float, passed: bool, node_cpu: float, each: list[float]) -> Any:
    return {
        "nodes": nodes,
        "offered_msgs_per_s": rate,
        "passed": passed,
        "cpu_us_per_delivery": node_cpu + 20.0,
        "node_cpu_us_per_delivery": node_cpu,
        "node_cpu_us_per_delivery_each": each,
    }


def test_multinode_projection_uses_the_highest_rate_both_passed() -> None:
    rows = [
        _step(1, 100, True, 30.0, [30.0]),
        _step(1, 150, True, 40.0, [40.0]),
        _step(1, 200, False, 45.0, [45.0]),
        _step(2, 100, True, 50.0, [25.0, 25.0]),
        _step(2, 150, True, 50.0, [20.0, 30.0]),
        _step(2, 200, True, 60.0, [30.0, 30.0]),
    ]
    found = _cpu_scaling(rows)
    assert found["cpu_scaling_at_msgs_per_s"] == 150
    assert found["cpu_scaling_2_over_1"] == 1.6  # 2 x 40 / 50
    assert found["cpu_scaling_2_over_1_first_node"] == 2.0  # 40 / 20
    assert found["db_broker_cpu_us_per_delivery_1_node"] == 20.0
    assert found["node_cpu_us_per_delivery_2_nodes_each"] == [20.0, 30.0]


def test_multinode_projection_needs_a_rate_both_passed() -> None:
    rows = [_step(1, 50, True, 30.0, [30.0]), _step(2, 50, False, 50.0, [25.0, 25.0])]
    assert _cpu_scaling(rows) == {"cpu_scaling_2_over_1": None}


def _second(t: int, p99: float | None, refused: int = 0) -> dict[str, Any]:
    return {"t_s": t, "503": refused, "429": 0, "p99_ms": p99}


def test_recovery_counts_from_the_surge_end_to_the_first_calm_run_after_the_last_refusal() -> None:
    timeline = [_second(t, 900.0, refused=10) for t in range(10, 20)]
    timeline += [_second(20, 50.0), _second(21, 50.0), _second(22, 800.0, refused=1)]
    timeline += [_second(t, 40.0) for t in range(23, 30)]
    timeline += [_second(30, 700.0)]  # a lone slow second later does not undo it
    timeline += [_second(t, 40.0) for t in range(31, 40)]
    assert _recovery_s(timeline, 20, 500.0) == 3  # refused at 22, calm from 23 for 5 s


def test_no_recovery_when_refusals_go_on_to_the_end() -> None:
    timeline = [_second(t, 40.0) for t in range(20, 30)] + [_second(30, 40.0, refused=1)]
    assert _recovery_s(timeline, 20, 500.0) is None


def test_timeline_counts_refusals_and_admissions_in_the_second_they_happened() -> None:
    late = Outcome("surge", bot=False, first_at=100.2, sent_at=103.5, status="201")
    late.refused_at = [(101.0, "503", 2.0), (102.4, "429", 1.0)]
    early = Outcome("surge", bot=False, first_at=100.7, sent_at=100.7, status="201")
    refused = Outcome("surge", bot=True, first_at=101.1, status="503")
    refused.refused_at = [(101.3, "503", 5.0)]
    rows = _timeline(
        {"late": late, "early": early, "refused": refused},
        {"late": [0.010, 0.020], "early": [0.004]},
        t0=100.0,
    )
    by_second = {r["t_s"]: r for r in rows}
    assert by_second[0]["offered"] == 2 and by_second[0]["admitted"] == 1
    assert by_second[0]["p99_ms"] == 4.0
    assert by_second[1]["offered"] == 1 and by_second[1]["503"] == 2
    assert by_second[1]["retry_after_max"] == 5.0
    assert by_second[2]["429"] == 1
    assert by_second[3]["admitted"] == 1 and by_second[3]["p99_ms"] == 20.0


def test_a_servers_cpu_keeps_what_its_exited_processes_used() -> None:
    """A PostgreSQL backend that exits mid-step must not take its CPU out of the total."""
    burn = "import sys, time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
    backend = subprocess.Popen(
        [sys.executable, "-c", burn + "sys.stdin.read()"], stdin=subprocess.PIPE
    )
    server = Server(["unused"], {}, 0, extra_pids=lambda: [backend.pid])
    server.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        deadline = time.monotonic() + 30
        while cpu_by_pid([backend.pid]).get(backend.pid, 0.0) < 0.3:
            assert time.monotonic() < deadline, "the burner never used its CPU"
            time.sleep(0.05)
        before = server.cpu()
        backend.communicate(b"")
        assert before >= 0.3
        assert server.cpu() >= before
    finally:
        server.stop()


def test_a_capped_server_runs_in_a_cgroup_with_its_quota_until_it_stops() -> None:
    server = Server(["unused"], {}, 0, cpu_cap=0.25)
    server.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        try:
            group = cap_cpu(server.process.pid, 0.25)
        except (OSError, RuntimeError) as exc:
            pytest.skip(f"no writable cgroup cpu controller here: {exc}")
        server._cgroup = group
        procs = (group / "cgroup.procs").read_text().split()
        assert procs == [str(server.process.pid)]
        if (group / "cpu.cfs_quota_us").exists():
            quota = (group / "cpu.cfs_quota_us").read_text().strip()
            period = (group / "cpu.cfs_period_us").read_text().strip()
        else:
            quota, period = (group / "cpu.max").read_text().split()
        assert int(quota) / int(period) == 0.25
        # A node that spent its quota stalls for the rest of the period: short enough not
        # to decide a step's p99 on its own.
        assert int(period) <= 10_000
    finally:
        server.stop()
    assert not group.exists()


def test_saturation_steps_are_the_given_ones_or_the_defaults() -> None:
    quick = Options(quick=True, pin=False, setup="auto")
    full = Options(quick=False, pin=False, setup="auto")
    assert saturation_steps(quick) == SATURATION_STEPS
    assert saturation_steps(full) == SATURATION_STEPS + FULL_EXTRA_STEPS
    assert saturation_steps(Options(quick=True, pin=False, setup="auto", steps=(75, 100))) == [
        75,
        100,
    ]


def test_a_rate_given_twice_is_two_steps_of_new_messages() -> None:
    """Each saturation step sends messages of its own. Were a repeated rate's
    client_msg_ids the earlier step's, Knock would answer them as retries and deliver
    nothing: the second step would lose every message. The p99 limit is set out of reach
    so that only loss and refusals decide a step (a busy CI machine's latency must not)."""
    options = Options(quick=True, pin=False, setup="seed", steps=(20, 20), p99_limit_ms=1e9)
    rows = asyncio.run(group_saturation(KnockTarget(), options))
    assert [r["offered_msgs_per_s"] for r in rows] == [20, 20], rows
    for row in rows:
        assert row["accepted"] == row["messages"] > 0, row
        assert row["lost"] == 0, row
        assert row["passed"] and row["knee_msgs_per_s"] == 20, row


def _climbed(options: Options, failing: set[int]) -> tuple[list[tuple[str, int]], int | None]:
    """The steps ``climb`` takes (tag, rate) and its knee, when the given rates fail."""
    taken: list[tuple[str, int]] = []

    async def step(tag: str, rate: int) -> dict[str, Any]:
        taken.append((tag, rate))
        p99 = 2 * options.p99_limit_ms if rate in failing else options.p99_limit_ms
        return {"p99_ms": p99, "send_lag_p99_ms": 1.0, "lost": 0, "messages": 9, "accepted": 9}

    rows, knee = asyncio.run(climb(step, options))
    assert [r["passed"] for r in rows] == [rate not in failing for _, rate in taken]
    return taken, knee


def test_the_climb_stops_at_the_first_failing_step_and_the_knee_is_the_one_before() -> None:
    options = Options(quick=True, pin=False, setup="auto", steps=(50, 100, 150, 200))
    taken, knee = _climbed(options, failing={150, 200})
    assert taken == [("s0-50", 50), ("s1-100", 100), ("s2-150", 150)]
    assert knee == 100


def test_when_the_first_step_fails_only_lower_rates_are_tried() -> None:
    """A first step that fails sends the climb down, never up: with --steps 20,20 on a
    busy machine, the search below it once ran 40 msg/s."""
    options = Options(quick=True, pin=False, setup="auto", steps=(20, 20))
    taken, knee = _climbed(options, failing={20})
    assert taken == [("s0-20", 20), ("s1-10", 10)]
    assert knee == 10
    assert _climbed(options, failing={20, 10}) == ([("s0-20", 20), ("s1-10", 10)], None)


def test_a_step_passes_only_without_loss_refusals_or_a_late_p99() -> None:
    options = Options(quick=True, pin=False, setup="auto", p99_limit_ms=50.0)
    good = {"p99_ms": 50.0, "send_lag_p99_ms": 50.0, "lost": 0, "messages": 9, "accepted": 9}
    assert passes(good, options)
    assert not passes({**good, "p99_ms": 50.5}, options)
    assert not passes({**good, "send_lag_p99_ms": 51.0}, options)
    assert not passes({**good, "lost": 1}, options)
    assert not passes({**good, "accepted": 8}, options)
    unanswered = {k: v for k, v in good.items() if k != "accepted"}  # an XMPP peer's row
    assert passes(unanswered, options)
