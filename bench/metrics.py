"""Percentiles and the generator's own costs, computed as PEERS.md defines them."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence


def pct(values: Sequence[float], q: float) -> float:
    """``sorted[min(n-1, int(q*n))]`` over already sorted values; NaN when empty."""
    n = len(values)
    if not n:
        return float("nan")
    return values[min(n - 1, int(q * n))]


def summary_ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(pct(ordered, 0.50) * 1000, 2),
        "p95_ms": round(pct(ordered, 0.95) * 1000, 2),
        "p99_ms": round(pct(ordered, 0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else float("nan"),
    }


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


class LoopLag:
    """Samples how late the event loop wakes a 5 ms sleep (the generator's own lag)."""

    def __init__(self, period_s: float = 0.005) -> None:
        self.period = period_s
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.period)
            self.samples.append(time.monotonic() - before - self.period)

    def start(self) -> None:
        self.samples = []
        self._task = asyncio.create_task(self._run())

    def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
        ordered = sorted(self.samples)
        return {
            "loop_lag_p99_ms": round(pct(ordered, 0.99) * 1000, 2),
            "loop_lag_max_ms": round(ordered[-1] * 1000, 2) if ordered else 0.0,
        }
