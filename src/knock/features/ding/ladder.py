"""The escalation ladder: in-app at once, then email, then the gateway (SMS/phone), each
step at a delay from the moment the recipient was DINGed (the DING or their last re-DING).

A step that cannot be sent (not configured, or failed too often) is passed over; the
ladder goes on to the next one. Confirming ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from knock.features.ding.models import Ding, DingRecipient

IN_APP = "in_app"
EMAIL = "email"
GATEWAY = "gateway"
# A failed step is tried again after these delays, then passed over.
RETRY_DELAYS_S = (30, 120, 600)


@dataclass(frozen=True)
class Planned:
    step: str | None
    at: datetime | None


def _after_s(ding: Ding, step: str) -> int:
    return ding.email_after_s if step == EMAIL else ding.gateway_after_s


def _steps(ding: Ding) -> list[str]:
    return [s for s, on in ((EMAIL, ding.email_enabled), (GATEWAY, ding.gateway_enabled)) if on]


def plan_after(ding: Ding, dinged_at: datetime, done: str, now: datetime) -> Planned:
    """The step that follows ``done`` (``IN_APP`` for a fresh ladder): due at its delay
    from ``dinged_at``, or at once if that moment has passed."""
    steps = _steps(ding)
    following = steps if done == IN_APP else steps[steps.index(done) + 1 :] if done in steps else []
    if not following:
        return Planned(None, None)
    step = following[0]
    return Planned(step, max(now, dinged_at + timedelta(seconds=_after_s(ding, step))))


def restart(ding: Ding, recipient: DingRecipient, now: datetime) -> None:
    """Start the recipient's ladder again from now (a DING or a re-DING)."""
    planned = plan_after(ding, now, IN_APP, now)
    recipient.dinged_at = now
    recipient.last_step = IN_APP
    recipient.last_step_at = now
    recipient.next_step = planned.step
    recipient.next_step_at = planned.at
    recipient.attempts = 0
    # A node sending the old ladder's step finds its lease gone and changes nothing.
    recipient.lease_owner = None
    recipient.lease_until = None


def after_outcome(
    ding: Ding, recipient: DingRecipient, step: str, outcome: str, now: datetime
) -> None:
    """Move the recipient along after a step was tried (the caller holds the row lock)."""
    recipient.lease_owner = None
    recipient.lease_until = None
    if outcome == "sent":
        recipient.last_step = step
        recipient.last_step_at = now
    if recipient.confirmed_at is not None or outcome == "skipped":
        recipient.next_step = None
        recipient.next_step_at = None
        return
    if outcome == "failed" and recipient.attempts < len(RETRY_DELAYS_S):
        recipient.next_step_at = now + timedelta(seconds=RETRY_DELAYS_S[recipient.attempts])
        recipient.attempts += 1
        return
    planned = plan_after(ding, recipient.dinged_at, step, now)
    recipient.next_step = planned.step
    recipient.next_step_at = planned.at
    recipient.attempts = 0
