"""Approvals: submit (idempotent per client_request_id), approve, reject, withdraw,
resubmit; inboxes and the audit trail.

Only an approval's participants (the submitter, every approver of every round, the people
copied) and the team's owners and admins may see it; for anyone else it does not exist.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.core.clock import utcnow
from knock.core.db import Database, Transaction
from knock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from knock.core.events import Audience
from knock.core.ids import ID_LENGTH, new_id
from knock.features.accounts.actions import Viewer
from knock.features.approvals import repository as repo
from knock.features.approvals.attachments import hold_attachments_txn
from knock.features.approvals.audit import append_audit_txn, audit_out
from knock.features.approvals.cards import ApprovalCards
from knock.features.approvals.events import ApprovalCreated, ApprovalUpdated
from knock.features.approvals.flow import OrgChart, resolve_flow
from knock.features.approvals.forms import check_values, computed_values
from knock.features.approvals.models import Approval, ApprovalApprover, ApprovalStep
from knock.features.approvals.rounds import (
    approval_outs,
    lay_round_txn,
    next_step,
    round_steps,
    step_done,
)
from knock.features.approvals.schemas import (
    MAX_ROUNDS,
    MAX_VALUES_BYTES,
    ApprovalOut,
    ApprovalPage,
    AuditPage,
    FormField,
    SubmitIn,
)
from knock.features.approvals.templates import fields_of, flow_of
from knock.features.conversations.actions import (
    check_own_conversation_in_org,
)
from knock.features.orgs.actions import access_org, is_admin, members_among


def request_hash(body: SubmitIn) -> str:
    """SHA-256 of the canonical body, to tell a retry from a reused client_request_id.
    (The standard json module: values may hold numbers too large for orjson.)"""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def access_approval(
    session: AsyncSession, user_id: str, approval_id: str, *, lock: bool = False
) -> tuple[Approval, bool]:
    """The approval and whether the caller takes part in it; NotFound unless they take part
    or are an owner or admin of its team."""
    if len(approval_id) > ID_LENGTH:
        raise NotFound()
    approval = await repo.approval_by_id(session, approval_id, lock=lock)
    if approval is None:
        raise NotFound()
    member = await access_org(session, user_id, approval.org_id)
    participant = await repo.is_participant(session, approval, user_id)
    if not participant and not is_admin(member):
        raise NotFound()
    return approval, participant


async def may_see_approval_media(session: AsyncSession, user_id: str, media_id: str) -> bool:
    """Whether an approval the viewer may see holds this file (for GET /media)."""
    for approval_id in await repo.approvals_holding(session, media_id):
        try:
            await access_approval(session, user_id, approval_id)
        except NotFound:
            continue
        return True
    return False


async def check_people(
    session: AsyncSession, org_id: str, fields: list[FormField], values: dict[str, Any]
) -> None:
    """Employee answers must name members of the team."""
    for spec in fields:
        if spec.type == "employee" and spec.key in values:
            wanted = values[spec.key]
            if set(wanted) - await members_among(session, org_id, wanted):
                raise InvalidInput(f"values.{spec.key}: not a member of this team.")


def check_size(values: dict[str, Any]) -> str:
    encoded = orjson.dumps(values).decode()
    if len(encoded.encode()) > MAX_VALUES_BYTES:
        raise InvalidInput(f"values: at most {MAX_VALUES_BYTES // 1024} KiB in all.")
    return encoded


class Approvals:
    def __init__(self, db: Database, cards: ApprovalCards) -> None:
        self._db = db
        self._cards = cards

    # -- submitting ---------------------------------------------------------------------

    async def do_submit(
        self, viewer: Viewer, org_id: str, body: SubmitIn
    ) -> tuple[ApprovalOut, bool]:
        """The new approval (True), or the one this client_request_id made before (False)."""
        digest = request_hash(body)
        for attempt in range(2):
            try:
                async with self._db.transaction() as txn:
                    return await self._submit_txn(txn, viewer.user_id, org_id, body, digest)
            except IntegrityError:
                # A retry committed the same approval first, or a card's dm appeared
                # meanwhile: the second attempt finds them.
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def _submit_txn(
        self, txn: Transaction, user_id: str, org_id: str, body: SubmitIn, digest: str
    ) -> tuple[ApprovalOut, bool]:
        session = txn.session
        await access_org(session, user_id, org_id)
        existing = await repo.approval_by_client_id(
            session, org_id, user_id, body.client_request_id
        )
        if existing is not None:
            if existing.request_hash != digest:
                raise Conflict(
                    "This client_request_id was already used for another approval.",
                    code="client_request_id_reused",
                )
            return (await approval_outs(session, [existing]))[0], False
        template = await repo.template_by_id(session, body.template_id)
        if template is None or template.org_id != org_id:
            raise InvalidInput("template_id: no such template in this team.")
        if template.archived:
            raise Conflict("This template is archived.", code="template_archived")
        version = await repo.template_version(session, template.id, template.version)
        assert version is not None
        if body.conversation_id is not None:
            await check_own_conversation_in_org(session, user_id, org_id, body.conversation_id)
        now = utcnow()
        approval = Approval(
            id=new_id(),
            org_id=org_id,
            template_id=template.id,
            template_version=version.version,
            submitter_id=user_id,
            client_request_id=body.client_request_id,
            request_hash=digest,
            values="{}",
            computed="{}",
            status="pending",
            round=1,
            current_step=None,
            conversation_id=body.conversation_id,
            summary=(body.summary or "").strip() or version.name,
            created_at=now,
            updated_at=now,
            decided_at=None,
        )
        await self._fill_round_txn(txn, approval, body.values, new=True)
        await append_audit_txn(
            session,
            approval,
            user_id,
            "submitted",
            detail={"template_version": version.version, "values": orjson.loads(approval.values)},
        )
        await self._finish_if_no_step_txn(txn, approval)
        await self._cards.post_txn(txn, approval, first=True)
        out = (await approval_outs(session, [approval]))[0]
        txn.emit(ApprovalCreated(approval=out), await self._audience(session, approval))
        return out, True

    async def _fill_round_txn(
        self, txn: Transaction, approval: Approval, raw: dict[str, Any], *, new: bool
    ) -> None:
        """Check the values against the approval's template version, resolve the flow on
        the org chart as it is now and lay the round down."""
        session = txn.session
        version = await repo.template_version(
            session, approval.template_id, approval.template_version
        )
        assert version is not None
        fields = fields_of(version)
        values = check_values(fields, raw)
        approval.values = check_size(values)
        await check_people(session, approval.org_id, fields, values)
        computed = computed_values(fields, values)
        approval.computed = orjson.dumps(computed).decode()
        chart = OrgChart(session, approval.org_id, approval.submitter_id)
        resolved = await resolve_flow(chart, flow_of(version), {**values, **computed})
        if new:
            await repo.add_approval_txn(session, approval)
        await hold_attachments_txn(session, approval, fields, values)
        await lay_round_txn(session, approval, resolved)
        known = set((await repo.cc_of(session, [approval.id])).get(approval.id, []))
        await repo.add_cc_txn(session, approval.id, [c for c in resolved.cc_ids if c not in known])
        await session.flush()

    async def _finish_if_no_step_txn(self, txn: Transaction, approval: Approval) -> None:
        """A round where no step applies (every condition false) is approved at once."""
        if approval.current_step is None:
            approval.status = "approved"
            approval.decided_at = utcnow()
            await append_audit_txn(txn.session, approval, None, "completed")

    # -- deciding -----------------------------------------------------------------------

    async def do_decide(
        self, viewer: Viewer, approval_id: str, decision: str, comment: str
    ) -> ApprovalOut:
        """Approve or reject as an approver of the current step. A rejection ends the
        approval; the step's last needed approval moves it on (or completes it)."""
        async with self._db.transaction() as txn:
            session = txn.session
            approval, _ = await access_approval(session, viewer.user_id, approval_id, lock=True)
            if approval.status != "pending":
                raise Conflict(
                    f"This approval is already {approval.status}.", code="approval_closed"
                )
            steps = await round_steps(session, approval)
            step, approvers = next((s, a) for s, a in steps if s.position == approval.current_step)
            present = await members_among(session, approval.org_id, [a.user_id for a in approvers])
            mine = next((a for a in approvers if a.user_id == viewer.user_id), None)
            if mine is None and any(
                a.user_id == viewer.user_id and a.decision is None
                for s, people in steps
                if s.position < step.position
                for a in people
            ):
                # An "any" step someone else completed a moment before.
                raise Conflict("This step has already been decided.", code="already_decided")
            if mine is None:
                mine = await self._stand_in_txn(txn, approval, step, approvers, present, viewer)
                present.add(viewer.user_id)
            if mine.decision is not None or step.status != "pending":
                raise Conflict("You have already decided this step.", code="already_decided")
            now = utcnow()
            mine.decision, mine.comment, mine.decided_at = decision, comment.strip(), now
            approval.updated_at = now
            await append_audit_txn(
                session,
                approval,
                viewer.user_id,
                decision,
                step=step.position,
                comment=mine.comment,
            )
            if decision == "rejected":
                step.status = "rejected"
                self._close(approval, steps, "rejected", now)
            elif step_done(step, approvers, present):
                step.status = "approved"
                following = next_step(steps, step.position)
                if following is None:
                    self._close(approval, steps, "approved", now)
                    await append_audit_txn(session, approval, None, "completed")
                else:
                    following.status = "pending"
                    approval.current_step = following.position
                    await self._cards.post_txn(txn, approval, first=False)
            await session.flush()
            return await self._updated_txn(txn, approval)

    @staticmethod
    async def _stand_in_txn(
        txn: Transaction,
        approval: Approval,
        step: ApprovalStep,
        approvers: list[ApprovalApprover],
        present: set[str],
        viewer: Viewer,
    ) -> ApprovalApprover:
        """An owner or admin decides a step none of whose undecided approvers is still in
        the team (they left after it was routed); else 403."""
        member = await access_org(txn.session, viewer.user_id, approval.org_id)
        waiting = [a for a in approvers if a.decision is None and a.user_id in present]
        if waiting or not is_admin(member):
            raise Forbidden("You are not an approver of the current step.", code="not_your_turn")
        stand_in = ApprovalApprover(
            approval_id=approval.id,
            round=approval.round,
            position=step.position,
            user_id=viewer.user_id,
            decision=None,
            comment="",
            decided_at=None,
        )
        await repo.add_round_txn(txn.session, [], [stand_in])
        approvers.append(stand_in)
        step.fallback = True
        return stand_in

    @staticmethod
    def _close(approval: Approval, steps: list[Any], status: str, now: Any) -> None:
        approval.status = status
        approval.decided_at = now
        approval.current_step = None
        for step, _ in steps:
            if step.status in ("waiting", "pending"):
                step.status = "cancelled"

    async def do_withdraw(self, viewer: Viewer, approval_id: str) -> ApprovalOut:
        """The submitter takes it back, while pending and before anyone has decided."""
        async with self._db.transaction() as txn:
            session = txn.session
            approval, _ = await access_approval(session, viewer.user_id, approval_id, lock=True)
            if approval.submitter_id != viewer.user_id:
                raise Forbidden("Only the submitter may withdraw an approval.")
            if approval.status != "pending":
                raise Conflict(
                    f"This approval is already {approval.status}.", code="approval_closed"
                )
            steps = await round_steps(session, approval)
            if any(a.decision is not None for _, approvers in steps for a in approvers):
                raise Conflict(
                    "Someone has already decided on this approval; it can no longer be withdrawn.",
                    code="approval_in_progress",
                )
            now = utcnow()
            self._close(approval, steps, "withdrawn", now)
            approval.updated_at = now
            await append_audit_txn(session, approval, viewer.user_id, "withdrawn")
            await session.flush()
            return await self._updated_txn(txn, approval)

    async def do_resubmit(
        self, viewer: Viewer, approval_id: str, values: dict[str, Any] | None
    ) -> ApprovalOut:
        """A new round of the same approval after a rejection or a withdrawal, with new
        values or the old ones, on the same template version, routed afresh."""
        async with self._db.transaction() as txn:
            session = txn.session
            approval, _ = await access_approval(session, viewer.user_id, approval_id, lock=True)
            if approval.submitter_id != viewer.user_id:
                raise Forbidden("Only the submitter may resubmit an approval.")
            if approval.status not in ("rejected", "withdrawn"):
                raise Conflict(
                    "Only a rejected or withdrawn approval can be resubmitted.",
                    code="approval_not_closed",
                )
            if approval.round >= MAX_ROUNDS:
                raise Conflict(
                    f"An approval goes through at most {MAX_ROUNDS} rounds; submit a new one.",
                    code="round_limit_reached",
                )
            raw = values if values is not None else orjson.loads(approval.values)
            now = utcnow()
            approval.round += 1
            approval.status, approval.decided_at, approval.updated_at = "pending", None, now
            await self._fill_round_txn(txn, approval, raw, new=False)
            await append_audit_txn(
                session,
                approval,
                viewer.user_id,
                "resubmitted",
                detail={"values": orjson.loads(approval.values)},
            )
            await self._finish_if_no_step_txn(txn, approval)
            await self._cards.post_txn(txn, approval, first=True)
            return await self._updated_txn(txn, approval)

    async def _updated_txn(self, txn: Transaction, approval: Approval) -> ApprovalOut:
        await txn.session.flush()
        out = (await approval_outs(txn.session, [approval]))[0]
        txn.emit(ApprovalUpdated(approval=out), await self._audience(txn.session, approval))
        return out

    @staticmethod
    async def _audience(session: AsyncSession, approval: Approval) -> Audience:
        return Audience(user_ids=tuple(await repo.participants(session, approval)))

    # -- reading ------------------------------------------------------------------------

    async def approval(self, viewer: Viewer, approval_id: str) -> ApprovalOut:
        async with self._db.read() as session:
            approval, _ = await access_approval(session, viewer.user_id, approval_id)
            return (await approval_outs(session, [approval]))[0]

    async def inbox(
        self,
        viewer: Viewer,
        org_id: str,
        box: str,
        status: str | None,
        before: str | None,
        limit: int,
    ) -> ApprovalPage:
        async with self._db.read() as session:
            await access_org(session, viewer.user_id, org_id)
            rows = await repo.inbox(session, org_id, viewer.user_id, box, status, before, limit + 1)
            items = await approval_outs(session, rows[:limit])
        next_before = items[-1].id if len(rows) > limit else None
        return ApprovalPage(items=items, next_before=next_before)

    async def audit(
        self, viewer: Viewer, approval_id: str, after: int | None, limit: int
    ) -> AuditPage:
        async with self._db.read() as session:
            approval, _ = await access_approval(session, viewer.user_id, approval_id)
            rows = await repo.audit_page(session, approval.id, after, limit + 1)
        items = [audit_out(e) for e in rows[:limit]]
        return AuditPage(items=items, next_after=items[-1].seq if len(rows) > limit else None)
