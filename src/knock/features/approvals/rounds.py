"""An approval's rounds of steps: laying a resolved flow down as rows, moving to the next
step when one is decided, and showing an approval with all of it."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.approvals import repository as repo
from knock.features.approvals.flow import ResolvedFlow
from knock.features.approvals.models import Approval, ApprovalApprover, ApprovalStep
from knock.features.approvals.schemas import ApprovalOut, ApproverOut, StepOut
from knock.features.approvals.templates import fields_of


async def lay_round_txn(session: AsyncSession, approval: Approval, flow: ResolvedFlow) -> None:
    """The round's steps and approvers; the first step that applies becomes current."""
    steps: list[ApprovalStep] = []
    approvers: list[ApprovalApprover] = []
    current: int | None = None
    for step in flow.steps:
        status = "skipped" if not step.applies else "waiting"
        if step.applies and current is None:
            current, status = step.position, "pending"
        steps.append(
            ApprovalStep(
                approval_id=approval.id,
                round=approval.round,
                position=step.position,
                name=step.name,
                mode=step.mode,
                status=status,
                fallback=step.fallback,
            )
        )
        approvers.extend(
            ApprovalApprover(
                approval_id=approval.id,
                round=approval.round,
                position=step.position,
                user_id=user_id,
                decision=None,
                comment="",
                decided_at=None,
            )
            for user_id in step.approver_ids
        )
    await repo.add_round_txn(session, steps, approvers)
    approval.current_step = current


def step_done(step: ApprovalStep, approvers: list[ApprovalApprover], present: set[str]) -> bool:
    """Whether the approvals so far complete the step: any one, or all of those still in
    the team (someone who left can no longer approve)."""
    approved = [a for a in approvers if a.decision == "approved"]
    if step.mode == "any" or not approved:
        return bool(approved)
    return all(a.decision == "approved" for a in approvers if a.user_id in present)


def next_step(
    steps: list[tuple[ApprovalStep, list[ApprovalApprover]]], after: int
) -> ApprovalStep | None:
    for step, _ in steps:
        if step.position > after and step.status == "waiting":
            return step
    return None


async def round_steps(
    session: AsyncSession, approval: Approval
) -> list[tuple[ApprovalStep, list[ApprovalApprover]]]:
    return [
        (step, approvers)
        for step, approvers in await repo.steps_of(session, [approval.id])
        if step.round == approval.round
    ]


async def approval_outs(session: AsyncSession, approvals: list[Approval]) -> list[ApprovalOut]:
    """Approvals as the API shows them: the current round's steps, the form of their
    template version. A few queries for the whole list."""
    ids = [a.id for a in approvals]
    by_approval: dict[str, list[StepOut]] = {}
    current_round = {a.id: a.round for a in approvals}
    for step, approvers in await repo.steps_of(session, ids):
        if step.round != current_round[step.approval_id]:
            continue
        by_approval.setdefault(step.approval_id, []).append(
            StepOut(
                position=step.position,
                name=step.name,
                mode=step.mode,
                status=step.status,
                fallback=step.fallback,
                approvers=[
                    ApproverOut(
                        user_id=a.user_id,
                        decision=a.decision,
                        comment=a.comment,
                        decided_at=a.decided_at,
                    )
                    for a in approvers
                ],
            )
        )
    cc = await repo.cc_of(session, ids)
    versions: dict[tuple[str, int], Any] = {}
    outs = []
    for approval in approvals:
        key = (approval.template_id, approval.template_version)
        if key not in versions:
            versions[key] = await repo.template_version(session, *key)
        version = versions[key]
        outs.append(
            ApprovalOut(
                id=approval.id,
                org_id=approval.org_id,
                template_id=approval.template_id,
                template_version=approval.template_version,
                template_name=version.name,
                fields=fields_of(version),
                submitter_id=approval.submitter_id,
                client_request_id=approval.client_request_id,
                values=orjson.loads(approval.values),
                computed=orjson.loads(approval.computed),
                status=approval.status,
                round=approval.round,
                current_step=approval.current_step,
                steps=by_approval.get(approval.id, []),
                cc_ids=cc.get(approval.id, []),
                conversation_id=approval.conversation_id,
                summary=approval.summary,
                created_at=approval.created_at,
                updated_at=approval.updated_at,
                decided_at=approval.decided_at,
            )
        )
    return outs
