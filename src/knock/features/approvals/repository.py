"""SQL for approvals: templates and their versions, approvals, steps, approvers, CC and the
append-only audit trail (this module has no statement that updates or deletes audit rows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.approvals.models import (
    Approval,
    ApprovalApprover,
    ApprovalAudit,
    ApprovalCc,
    ApprovalMedia,
    ApprovalStep,
    ApprovalTemplate,
    ApprovalTemplateVersion,
)

# -- templates ---------------------------------------------------------------------------


async def builtin_kinds(session: AsyncSession, org_id: str) -> set[str]:
    rows = await session.execute(
        select(ApprovalTemplate.builtin).where(
            ApprovalTemplate.org_id == org_id, ApprovalTemplate.builtin.is_not(None)
        )
    )
    return {row[0] for row in rows if row[0] is not None}


async def templates_of_org(
    session: AsyncSession, org_id: str, include_archived: bool
) -> list[tuple[ApprovalTemplate, ApprovalTemplateVersion]]:
    query = (
        select(ApprovalTemplate, ApprovalTemplateVersion)
        .join(
            ApprovalTemplateVersion,
            and_(
                ApprovalTemplateVersion.template_id == ApprovalTemplate.id,
                ApprovalTemplateVersion.version == ApprovalTemplate.version,
            ),
        )
        .where(ApprovalTemplate.org_id == org_id)
        .order_by(ApprovalTemplate.created_at, ApprovalTemplate.id)
    )
    if not include_archived:
        query = query.where(ApprovalTemplate.archived.is_(False))
    return [(t, v) for t, v in await session.execute(query)]


async def count_templates(session: AsyncSession, org_id: str) -> int:
    query = select(func.count()).select_from(ApprovalTemplate)
    return int((await session.execute(query.where(ApprovalTemplate.org_id == org_id))).scalar_one())


async def template_by_id(
    session: AsyncSession, template_id: str, *, lock: bool = False
) -> ApprovalTemplate | None:
    query = select(ApprovalTemplate).where(ApprovalTemplate.id == template_id)
    if lock:
        query = query.with_for_update()
    return (
        await session.execute(query.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def template_version(
    session: AsyncSession, template_id: str, version: int
) -> ApprovalTemplateVersion | None:
    return await session.get(ApprovalTemplateVersion, (template_id, version))


async def add_template_txn(
    session: AsyncSession, template: ApprovalTemplate, version: ApprovalTemplateVersion
) -> None:
    session.add(template)
    await session.flush()
    session.add(version)
    await session.flush()


async def add_version_txn(session: AsyncSession, version: ApprovalTemplateVersion) -> None:
    session.add(version)
    await session.flush()


# -- approvals ---------------------------------------------------------------------------


async def approval_by_id(
    session: AsyncSession, approval_id: str, *, lock: bool = False
) -> Approval | None:
    query = select(Approval).where(Approval.id == approval_id)
    if lock:
        query = query.with_for_update()
    return (
        await session.execute(query.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def approval_by_client_id(
    session: AsyncSession, org_id: str, submitter_id: str, client_request_id: str
) -> Approval | None:
    return (
        await session.execute(
            select(Approval).where(
                Approval.org_id == org_id,
                Approval.submitter_id == submitter_id,
                Approval.client_request_id == client_request_id,
            )
        )
    ).scalar_one_or_none()


async def add_approval_txn(session: AsyncSession, approval: Approval) -> None:
    session.add(approval)
    await session.flush()


async def add_round_txn(
    session: AsyncSession,
    steps: list[ApprovalStep],
    approvers: list[ApprovalApprover],
) -> None:
    session.add_all(steps)
    await session.flush()
    session.add_all(approvers)
    await session.flush()


async def add_cc_txn(session: AsyncSession, approval_id: str, user_ids: list[str]) -> None:
    session.add_all(ApprovalCc(approval_id=approval_id, user_id=u) for u in user_ids)
    await session.flush()


async def steps_of(
    session: AsyncSession, approval_ids: list[str]
) -> list[tuple[ApprovalStep, list[ApprovalApprover]]]:
    """Every step of every round of these approvals, with its approvers, in order."""
    if not approval_ids:
        return []
    steps = list(
        (
            await session.execute(
                select(ApprovalStep)
                .where(ApprovalStep.approval_id.in_(approval_ids))
                .order_by(ApprovalStep.approval_id, ApprovalStep.round, ApprovalStep.position)
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )
    approvers = (
        await session.execute(
            select(ApprovalApprover)
            .where(ApprovalApprover.approval_id.in_(approval_ids))
            .order_by(ApprovalApprover.decided_at.is_(None), ApprovalApprover.decided_at)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    by_step: dict[tuple[str, int, int], list[ApprovalApprover]] = {}
    for approver in approvers:
        key = (approver.approval_id, approver.round, approver.position)
        by_step.setdefault(key, []).append(approver)
    return [(s, by_step.get((s.approval_id, s.round, s.position), [])) for s in steps]


async def cc_of(session: AsyncSession, approval_ids: list[str]) -> dict[str, list[str]]:
    if not approval_ids:
        return {}
    rows = await session.execute(
        select(ApprovalCc.approval_id, ApprovalCc.user_id)
        .where(ApprovalCc.approval_id.in_(approval_ids))
        .order_by(ApprovalCc.user_id)
    )
    found: dict[str, list[str]] = {}
    for approval_id, user_id in rows:
        found.setdefault(approval_id, []).append(user_id)
    return found


async def is_participant(session: AsyncSession, approval: Approval, user_id: str) -> bool:
    """Submitter, an approver of any round, or copied."""
    if approval.submitter_id == user_id:
        return True
    approver = exists().where(
        ApprovalApprover.approval_id == approval.id, ApprovalApprover.user_id == user_id
    )
    cc = exists().where(ApprovalCc.approval_id == approval.id, ApprovalCc.user_id == user_id)
    return bool((await session.execute(select(or_(approver, cc)))).scalar_one())


async def participants(session: AsyncSession, approval: Approval) -> list[str]:
    approvers = await session.execute(
        select(ApprovalApprover.user_id).where(ApprovalApprover.approval_id == approval.id)
    )
    cc = await session.execute(
        select(ApprovalCc.user_id).where(ApprovalCc.approval_id == approval.id)
    )
    people = [approval.submitter_id, *(r[0] for r in approvers), *(r[0] for r in cc)]
    return list(dict.fromkeys(people))


async def inbox(
    session: AsyncSession,
    org_id: str,
    user_id: str,
    box: str,
    status: str | None,
    before: str | None,
    limit: int,
) -> list[Approval]:
    """A page of one person's approvals, newest first (ids sort by creation time)."""
    query = select(Approval).where(Approval.org_id == org_id)
    if box == "submitted":
        query = query.where(Approval.submitter_id == user_id)
    elif box == "cc":
        query = query.join(
            ApprovalCc, and_(ApprovalCc.approval_id == Approval.id, ApprovalCc.user_id == user_id)
        )
    else:
        # Waiting for this person: an undecided approver of the current step.
        query = query.join(
            ApprovalApprover,
            and_(
                ApprovalApprover.approval_id == Approval.id,
                ApprovalApprover.round == Approval.round,
                ApprovalApprover.position == Approval.current_step,
                ApprovalApprover.user_id == user_id,
                ApprovalApprover.decision.is_(None),
            ),
        ).where(Approval.status == "pending")
    if status is not None:
        query = query.where(Approval.status == status)
    if before is not None:
        query = query.where(Approval.id < before)
    rows = await session.execute(query.order_by(Approval.id.desc()).limit(limit))
    return list(rows.scalars())


async def approvals_between(
    session: AsyncSession, org_id: str, start: datetime, end: datetime, limit: int
) -> list[Approval]:
    rows = await session.execute(
        select(Approval)
        .where(Approval.org_id == org_id, Approval.created_at >= start, Approval.created_at < end)
        .order_by(Approval.created_at, Approval.id)
        .limit(limit)
    )
    return list(rows.scalars())


# -- audit trail (append only) -----------------------------------------------------------


async def last_audit(session: AsyncSession, approval_id: str) -> ApprovalAudit | None:
    return (
        await session.execute(
            select(ApprovalAudit)
            .where(ApprovalAudit.approval_id == approval_id)
            .order_by(ApprovalAudit.seq.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def append_audit_txn(session: AsyncSession, entry: ApprovalAudit) -> None:
    session.add(entry)
    await session.flush()


async def audit_page(
    session: AsyncSession, approval_id: str, after: int | None, limit: int
) -> list[ApprovalAudit]:
    query = select(ApprovalAudit).where(ApprovalAudit.approval_id == approval_id)
    if after is not None:
        query = query.where(ApprovalAudit.seq > after)
    return list((await session.execute(query.order_by(ApprovalAudit.seq).limit(limit))).scalars())


# -- attachments -------------------------------------------------------------------------


async def held_media(session: AsyncSession, approval_id: str) -> set[str]:
    rows = await session.execute(
        select(ApprovalMedia.media_id).where(ApprovalMedia.approval_id == approval_id)
    )
    return set(rows.scalars())


async def hold_media_txn(session: AsyncSession, approval_id: str, media_ids: list[str]) -> None:
    session.add_all(ApprovalMedia(approval_id=approval_id, media_id=m) for m in media_ids)
    await session.flush()


async def release_media_txn(session: AsyncSession, approval_id: str, media_ids: list[str]) -> None:
    if media_ids:
        await session.execute(
            delete(ApprovalMedia).where(
                ApprovalMedia.approval_id == approval_id, ApprovalMedia.media_id.in_(media_ids)
            )
        )


async def approvals_holding(session: AsyncSession, media_id: str) -> list[str]:
    rows = await session.execute(
        select(ApprovalMedia.approval_id).where(ApprovalMedia.media_id == media_id)
    )
    return list(rows.scalars())
