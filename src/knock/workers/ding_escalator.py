"""Walks the DING escalation ladders every ``KNOCK_DING_POLL_S`` on every node: the steps
are claimed with a lease in the database, so several nodes never send one step twice (see
``knock.features.ding.escalation``)."""

from __future__ import annotations

from knock.features.ding.escalation import DingEscalation
from knock.workers.periodic import PeriodicJob


def ding_escalator(escalation: DingEscalation, interval_s: float) -> PeriodicJob:
    return PeriodicJob(
        "ding-escalator",
        interval_s,
        escalation.run_once,
        "handled %d DING steps (sent, failed or passed over)",
    )
