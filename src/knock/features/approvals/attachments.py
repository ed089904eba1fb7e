"""The files an approval's attachment answers name. The approval holds them (a row in
``approval_media`` and ``media.approval_holds``, changed in the submitting transaction), so
the sweeper of unsent uploads spares them and GET /media serves them to whoever may see the
approval. A resubmission with other files releases the ones no answer names any more."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.approvals import repository as repo
from knock.features.approvals.models import Approval
from knock.features.approvals.schemas import FormField
from knock.features.media.actions import (
    check_uploads_for_approval_txn,
    hold_for_approval_txn,
    release_from_approval_txn,
)


def attachment_ids(fields: list[FormField], values: dict[str, Any]) -> dict[str, str]:
    """Every media id the (checked) answers name -> the first answer naming it."""
    where_of: dict[str, str] = {}
    for spec in fields:
        if spec.type == "attachment":
            for media_id in values.get(spec.key, []):
                where_of.setdefault(media_id, f"values.{spec.key}")
    return where_of


async def hold_attachments_txn(
    session: AsyncSession, approval: Approval, fields: list[FormField], values: dict[str, Any]
) -> None:
    """Hold the files the answers name and release those they no longer name. New files must
    be the submitter's own image uploads that no message holds (422 / 409 ``media_in_use``)."""
    wanted = attachment_ids(fields, values)
    held = await repo.held_media(session, approval.id)
    added = {m: where for m, where in wanted.items() if m not in held}
    gone = sorted(held - set(wanted))
    if added:
        await check_uploads_for_approval_txn(session, approval.submitter_id, added)
        await repo.hold_media_txn(session, approval.id, sorted(added))
        await hold_for_approval_txn(session, sorted(added))
    if gone:
        await repo.release_media_txn(session, approval.id, gone)
        await release_from_approval_txn(session, gone)
