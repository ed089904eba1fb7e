# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from knock.core.ids import ID_LENGTH
from knock.features.accounts.actions import Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.approvals.actions import Approvals
from knock.features.approvals.export import ApprovalExport
from knock.features.approvals.schemas import (
    AUDIT_PAGE_MAX,
    INBOX_PAGE_MAX,
    ApprovalOut,
    ApprovalPage,
    AuditPage,
    Box,
    DecisionIn,
    RejectIn,
    ResubmitIn,
    Status,
    SubmitIn,
    TemplateIn,
    TemplateList,
    TemplateOut,
)
from knock.features.approvals.templates import Templates


def build_router(
    templates: Templates,
    approvals: Approvals,
    export: ApprovalExport,
    current_viewer: ViewerDependency,
) -> APIRouter:
    router = APIRouter(tags=["approvals"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.get("/orgs/{org_id}/approval-templates")
    async def list_templates(
        org_id: str, viewer: CurrentViewer, include_archived: bool = False
    ) -> TemplateList:
        """The team's form templates, the built-in ones (leave, expense, general) included.
        Members."""
        return await templates.list_templates(viewer, org_id, include_archived)

    @router.post("/orgs/{org_id}/approval-templates", status_code=201)
    async def create_template(org_id: str, body: TemplateIn, viewer: CurrentViewer) -> TemplateOut:
        """A new form template with its approval flow. Owners and admins."""
        return await templates.do_create_template(viewer, org_id, body)

    @router.get("/approval-templates/{template_id}")
    async def get_template(
        template_id: str,
        viewer: CurrentViewer,
        version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    ) -> TemplateOut:
        """A template as it is, or an earlier `version`. Members of its team."""
        return await templates.template(viewer, template_id, version)

    @router.put("/approval-templates/{template_id}")
    async def update_template(
        template_id: str, body: TemplateIn, viewer: CurrentViewer
    ) -> TemplateOut:
        """Save a new version of a template; approvals already submitted keep the version
        they used. Owners and admins."""
        return await templates.do_update_template(viewer, template_id, body)

    @router.delete("/approval-templates/{template_id}", status_code=204)
    async def archive_template(template_id: str, viewer: CurrentViewer) -> Response:
        """Archive a template: no new approvals on it; submitted ones go on. Owners and
        admins."""
        await templates.do_archive_template(viewer, template_id)
        return Response(status_code=204)

    @router.post("/orgs/{org_id}/approvals", status_code=201)
    async def submit(
        org_id: str, body: SubmitIn, viewer: CurrentViewer, response: Response
    ) -> ApprovalOut:
        """Submit an approval on a template of the team. Members. A retry with the same
        client_request_id and body answers 200 with the same approval."""
        approval, created = await approvals.do_submit(viewer, org_id, body)
        if not created:
            response.status_code = 200
        return approval

    @router.get("/orgs/{org_id}/approvals")
    async def inbox(
        org_id: str,
        viewer: CurrentViewer,
        box: Box = "to_approve",
        status: Status | None = None,
        before: Annotated[str | None, Query(max_length=ID_LENGTH)] = None,
        limit: Annotated[int, Query(ge=1, le=INBOX_PAGE_MAX)] = 50,
    ) -> ApprovalPage:
        """The caller's approvals, newest first: waiting for them (`to_approve`), theirs
        (`submitted`) or copied to them (`cc`). Members."""
        return await approvals.inbox(viewer, org_id, box, status, before, limit)

    @router.get(
        "/orgs/{org_id}/approvals.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def export_csv(
        org_id: str,
        viewer: CurrentViewer,
        from_: Annotated[date | None, Query(alias="from")] = None,
        to: date | None = None,
    ) -> Response:
        """The team's approvals created from `from` to `to` (dates, UTC, both included) as
        CSV. Owners and admins."""
        body = await export.export_csv(viewer, org_id, from_, to)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="approvals.csv"'},
        )

    @router.get("/approvals/{approval_id}")
    async def get_approval(approval_id: str, viewer: CurrentViewer) -> ApprovalOut:
        """One approval. Its submitter, approvers and people copied, and the team's owners
        and admins; anyone else gets 404."""
        return await approvals.approval(viewer, approval_id)

    @router.post("/approvals/{approval_id}/approve")
    async def approve(approval_id: str, body: DecisionIn, viewer: CurrentViewer) -> ApprovalOut:
        """Approve as an approver of the current step (optional comment)."""
        return await approvals.do_decide(viewer, approval_id, "approved", body.comment)

    @router.post("/approvals/{approval_id}/reject")
    async def reject(approval_id: str, body: RejectIn, viewer: CurrentViewer) -> ApprovalOut:
        """Reject as an approver of the current step, with a comment; this ends it."""
        return await approvals.do_decide(viewer, approval_id, "rejected", body.comment)

    @router.post("/approvals/{approval_id}/withdraw")
    async def withdraw(approval_id: str, viewer: CurrentViewer) -> ApprovalOut:
        """The submitter withdraws a pending approval before anyone has decided."""
        return await approvals.do_withdraw(viewer, approval_id)

    @router.post("/approvals/{approval_id}/resubmit")
    async def resubmit(approval_id: str, body: ResubmitIn, viewer: CurrentViewer) -> ApprovalOut:
        """The submitter starts a new round of a rejected or withdrawn approval (same id),
        optionally with new values."""
        return await approvals.do_resubmit(viewer, approval_id, body.values)

    @router.get("/approvals/{approval_id}/audit")
    async def audit(
        approval_id: str,
        viewer: CurrentViewer,
        after: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
        limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 100,
    ) -> AuditPage:
        """The approval's audit trail, oldest first; append-only, hash-chained. Whoever may
        see the approval."""
        return await approvals.audit(viewer, approval_id, after, limit)

    return router
