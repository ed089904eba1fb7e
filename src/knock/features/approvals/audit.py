"""The audit trail: one row per thing that happened to an approval, appended in the same
transaction as the change, never updated or deleted. Each row's hash covers the previous
row's hash and its own content, so an edit made behind Knock's back breaks the chain
(``verify_chain``)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from knock.core.clock import isoformat, utcnow
from knock.features.approvals import repository as repo
from knock.features.approvals.models import Approval, ApprovalAudit
from knock.features.approvals.schemas import AuditEntryOut

GENESIS = "0" * 64


def entry_hash(previous: str, entry: ApprovalAudit) -> str:
    content = orjson.dumps(
        [
            previous,
            entry.approval_id,
            entry.seq,
            isoformat(entry.at),
            entry.actor_id,
            entry.action,
            entry.round,
            entry.step,
            entry.comment,
            entry.detail,
        ]
    )
    return hashlib.sha256(content).hexdigest()


async def append_audit_txn(
    session: AsyncSession,
    approval: Approval,
    actor_id: str | None,
    action: str,
    *,
    step: int | None = None,
    comment: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    last = await repo.last_audit(session, approval.id)
    entry = ApprovalAudit(
        approval_id=approval.id,
        seq=1 if last is None else last.seq + 1,
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        round=approval.round,
        step=step,
        comment=comment,
        detail=orjson.dumps(detail or {}, option=orjson.OPT_SORT_KEYS).decode(),
        hash="",
    )
    entry.hash = entry_hash(GENESIS if last is None else last.hash, entry)
    await repo.append_audit_txn(session, entry)


def audit_out(entry: ApprovalAudit) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        action=entry.action,
        round=entry.round,
        step=entry.step,
        comment=entry.comment,
        detail=orjson.loads(entry.detail),
        hash=entry.hash,
    )


def verify_chain(entries: list[ApprovalAudit]) -> bool:
    """True if every entry's hash matches its content and its predecessor (from seq 1)."""
    previous = GENESIS
    for expected_seq, entry in enumerate(entries, start=1):
        if entry.seq != expected_seq or entry.hash != entry_hash(previous, entry):
            return False
        previous = entry.hash
    return True
