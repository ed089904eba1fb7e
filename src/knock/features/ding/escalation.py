"""Walking the escalation ladders: one pass claims the due steps, sends them, records them.

1. Claim: in one transaction, a compare-and-set UPDATE leases each due, unleased,
   unconfirmed recipient row to this pass (``lease_owner``, ``lease_until``), and commits
   before anything is sent. Two nodes never hold one step at once.
2. Send: outside any transaction (SMTP and the gateway may be slow), all claimed steps at
   once.
3. Record: in a second transaction, under the row lock, and only if the lease is still
   ours: the step's outcome is kept in ``ding_steps`` and the recipient moves along.

A node that dies between 1 and 3 leaves its lease to run out (``KNOCK_DING_LEASE_S``); the
step is then claimed again and sent again: at least once, and twice only on such a crash.
The email's Message-ID and the gateway's ``Idempotency-Key`` are the same for both tries.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database
from knock.core.events import Audience
from knock.core.ids import new_id
from knock.features.accounts.actions import users_brief
from knock.features.ding import repository as repo
from knock.features.ding.actions import SEND_WINDOW, recipient_out
from knock.features.ding.delivery import SKIPPED, DingDelivery, StepNotice
from knock.features.ding.events import DingUpdated
from knock.features.ding.ladder import after_outcome
from knock.features.ding.models import Ding, DingStep

BATCH = 50
PRUNE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    ding_id: str
    user_id: str
    step: str
    dinged_at: datetime
    owner: str


class DingEscalation:
    def __init__(
        self, db: Database, settings: Settings, delivery: DingDelivery, batch: int = BATCH
    ) -> None:
        self._db = db
        self._batch = batch
        self._settings = settings
        self._delivery = delivery
        # Names this node in lease_owner (with a fresh part per claim).
        self._node = new_id()
        self._pruned_at: datetime | None = None

    async def run_once(self) -> int:
        """One pass over the steps due now (up to a batch of them); returns how many were
        handled."""
        now = utcnow()
        claims = await self.claim_due(now)
        if claims:
            notices = await self._notices(claims)
            outcomes = await asyncio.gather(
                *(
                    self._deliver(claim, notices.get((claim.ding_id, claim.user_id)))
                    for claim in claims
                )
            )
            for claim, (outcome, detail) in zip(claims, outcomes, strict=True):
                await self.record(claim, outcome, detail)
        if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
            async with self._db.transaction() as txn:
                await repo.prune_sends_txn(txn.session, now - SEND_WINDOW)
            self._pruned_at = now
        return len(claims)

    async def claim_due(self, now: datetime) -> list[Claim]:
        """Lease the due steps to this node; committed when this returns."""
        # Looked for outside a write transaction: most passes find nothing, and on SQLite
        # a write transaction would take the database's write lock every poll.
        if not await repo.any_due(self._db, now):
            return []
        async with self._db.read() as session:
            due = await repo.due_recipients(session, now, self._batch)
        if not due:
            return []
        lease_until = now + timedelta(seconds=self._settings.ding_lease_s)
        claims = []
        async with self._db.transaction() as txn:
            for ding_id, user_id in due:
                owner = f"{self._node}.{new_id()}"
                if not await repo.claim_txn(txn.session, ding_id, user_id, owner, now, lease_until):
                    continue  # another node got there first
                row = await repo.lock_recipient_txn(txn.session, ding_id, user_id)
                assert row is not None and row.next_step is not None
                claims.append(Claim(ding_id, user_id, row.next_step, row.dinged_at, owner))
        return claims

    async def _notices(self, claims: list[Claim]) -> dict[tuple[str, str], StepNotice]:
        """What each claimed step sends; a recipient who left the team gets none."""
        notices = {}
        async with self._db.read() as session:
            dings: dict[str, Ding] = {}
            for claim in claims:
                if claim.ding_id not in dings:
                    ding = await repo.ding_by_id(session, claim.ding_id)
                    assert ding is not None
                    dings[claim.ding_id] = ding
            people = await users_brief(
                session,
                sorted({c.user_id for c in claims} | {d.sender_id for d in dings.values()}),
            )
            for claim in claims:
                ding = dings[claim.ding_id]
                if not await repo.members_among(session, ding.org_id, [claim.user_id]):
                    continue
                text = ding.text
                if ding.message_id is not None:
                    quoted = await repo.message_text(session, ding.message_id)
                    text = "\n\n".join(part for part in (ding.text, quoted) if part)
                notices[(claim.ding_id, claim.user_id)] = StepNotice(
                    ding_id=ding.id,
                    org_id=ding.org_id,
                    org_name=await repo.org_name(session, ding.org_id),
                    sender_id=ding.sender_id,
                    sender_name=people.get(ding.sender_id, ("", ""))[0],
                    user_id=claim.user_id,
                    display_name=people.get(claim.user_id, ("", ""))[0],
                    email=people.get(claim.user_id, ("", ""))[1],
                    text=text,
                    created_at=ding.created_at,
                    dinged_at=claim.dinged_at,
                    step=claim.step,
                )
        return notices

    async def _deliver(self, claim: Claim, notice: StepNotice | None) -> tuple[str, str]:
        if notice is None:
            return SKIPPED, "the recipient is no longer in the team"
        return await self._delivery.deliver(notice)

    async def record(self, claim: Claim, outcome: str, detail: str) -> None:
        """Keep what happened and move the recipient along, if the lease is still ours (a
        re-DING meanwhile restarted their ladder; a lease that ran out went to another)."""
        now = utcnow()
        async with self._db.transaction() as txn:
            session = txn.session
            await repo.insert_step_txn(
                session,
                DingStep(
                    id=new_id(),
                    ding_id=claim.ding_id,
                    user_id=claim.user_id,
                    step=claim.step,
                    outcome=outcome,
                    detail=detail[:200],
                    created_at=now,
                ),
            )
            row = await repo.lock_recipient_txn(session, claim.ding_id, claim.user_id)
            ding = await repo.ding_by_id(session, claim.ding_id)
            if row is None or ding is None or row.lease_owner != claim.owner:
                return
            after_outcome(ding, row, claim.step, outcome, now)
            await session.flush()
            txn.emit(
                DingUpdated(
                    ding_id=ding.id, org_id=ding.org_id, change="step", recipient=recipient_out(row)
                ),
                Audience(user_ids=(ding.sender_id, row.user_id)),
            )
