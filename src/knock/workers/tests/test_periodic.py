from __future__ import annotations

import asyncio

import pytest

from knock.workers.periodic import PeriodicJob


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
