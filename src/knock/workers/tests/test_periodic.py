from __future__ import annotations

import asyncio
import contextlib

import pytest

from knock.workers.periodic import PeriodicJob, flush_when_poked


async def test_a_failing_pass_is_logged_and_the_job_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    passes: list[int] = []

    async def run_once() -> int:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("the database went away")
        return 2

    job = PeriodicJob("test-job", 0.01, run_once, "handled %d things")
    with caplog.at_level("INFO", logger="knock.workers.periodic"):
        await job.start()
        for _ in range(500):
            if len(passes) >= 3:
                break
            await asyncio.sleep(0.01)
        await job.stop()
    assert len(passes) >= 3
    assert "test-job failed" in caplog.text
    assert "handled 2 things" in caplog.text


async def test_a_poked_flush_runs_once_an_interval_later_and_not_while_idle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pokes within an interval share one flush; without pokes nothing runs (an idle node
    stays asleep); a failed flush is logged and tried again."""
    loop = asyncio.get_running_loop()
    flushes: list[float] = []
    fail_next = False

    async def flush() -> None:
        nonlocal fail_next
        flushes.append(loop.time())
        if fail_next:
            fail_next = False
            raise RuntimeError("the database went away")

    poked = asyncio.Event()
    task = asyncio.create_task(flush_when_poked(poked, 0.05, flush, "test flush"))
    try:
        await asyncio.sleep(0.3)
        assert flushes == []  # never poked: never ran
        poked_at = loop.time()
        poked.set()
        poked.set()
        await asyncio.sleep(0.02)
        poked.set()  # within the interval: the same flush
        await asyncio.sleep(0.3)
        assert len(flushes) == 1
        assert flushes[0] - poked_at >= 0.05
        fail_next = True
        with caplog.at_level("ERROR", logger="knock.workers.periodic"):
            poked.set()
            await asyncio.sleep(0.3)
        assert len(flushes) == 3  # the failure, then its retry, then idle again
        assert "test flush failed" in caplog.text
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_flush_is_not_cut_off_by_a_stop() -> None:
    """Cancelled in the middle of a flush (a node stopping), the flusher lets the flush end
    before it stops: a flush cut between its commit and its send would be sent twice."""
    started = asyncio.Event()
    ended: list[bool] = []

    async def flush() -> None:
        started.set()
        await asyncio.sleep(0.1)
        ended.append(True)

    poked = asyncio.Event()
    task = asyncio.create_task(flush_when_poked(poked, 0.01, flush, "test flush"))
    poked.set()
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ended == [True]
