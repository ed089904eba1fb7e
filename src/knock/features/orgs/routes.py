# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from knock.features.accounts.actions import Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.orgs.actions import Orgs
from knock.features.orgs.schemas import (
    DepartmentIn,
    DepartmentList,
    DepartmentOut,
    DepartmentUpdateIn,
    InviteAccepted,
    InviteIn,
    InviteOut,
    InvitePreview,
    MemberOut,
    MemberUpdateIn,
    OrgIn,
    OrgList,
    OrgMemberPage,
    OrgOut,
)


def build_router(orgs: Orgs, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["orgs"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post("/orgs", status_code=201)
    async def create_org(body: OrgIn, viewer: CurrentViewer) -> OrgOut:
        """Create a team; the caller becomes its owner. Any signed-in user (≤ 100 teams)."""
        return await orgs.do_create_org(viewer, body)

    @router.get("/orgs")
    async def list_orgs(viewer: CurrentViewer) -> OrgList:
        """The teams the caller belongs to, with the caller's role in each."""
        return await orgs.list_orgs(viewer)

    @router.get("/orgs/{org_id}")
    async def get_org(org_id: str, viewer: CurrentViewer) -> OrgOut:
        """One team with the caller's role. Members only (others get 404)."""
        return await orgs.get_org(viewer, org_id)

    @router.get("/orgs/{org_id}/members")
    async def list_members(
        org_id: str,
        viewer: CurrentViewer,
        after: Annotated[str | None, Query(max_length=26)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> OrgMemberPage:
        """The team's members by user id, a page at a time. Members only."""
        return await orgs.list_members(viewer, org_id, after, limit)

    @router.put("/orgs/{org_id}/members/{user_id}")
    async def update_member(
        org_id: str, user_id: str, body: MemberUpdateIn, viewer: CurrentViewer
    ) -> MemberOut:
        """Change a member's role or department. Owners and admins; only owners touch the
        owner role, and the last owner stays owner."""
        return await orgs.do_update_member(viewer, org_id, user_id, body)

    @router.delete("/orgs/{org_id}/members/{user_id}", status_code=204)
    async def remove_member(org_id: str, user_id: str, viewer: CurrentViewer) -> Response:
        """Remove a member (owners and admins; only owners remove owners) or leave (anyone
        but the last owner). Access to the team and its conversations ends at once."""
        await orgs.do_remove_member(viewer, org_id, user_id)
        return Response(status_code=204)

    @router.post("/orgs/{org_id}/invites", status_code=201)
    async def create_invite(org_id: str, body: InviteIn, viewer: CurrentViewer) -> InviteOut:
        """Create an invite code to join as member or admin. Owners and admins."""
        return await orgs.do_create_invite(viewer, org_id, body)

    @router.get("/invites/{code}")
    async def preview_invite(code: str, viewer: CurrentViewer) -> InvitePreview:
        """Which team an invite leads to, before accepting. Any signed-in user."""
        return await orgs.preview_invite(code)

    @router.post("/invites/{code}/accept")
    async def accept_invite(code: str, viewer: CurrentViewer) -> InviteAccepted:
        """Join the team with an invite code. Any signed-in user; members get 200 again
        without using up the code."""
        return await orgs.do_accept_invite(viewer, code)

    @router.post("/orgs/{org_id}/departments", status_code=201)
    async def create_department(
        org_id: str, body: DepartmentIn, viewer: CurrentViewer
    ) -> DepartmentOut:
        """Add a department, optionally under a parent (≤ 10 deep). Owners and admins."""
        return await orgs.do_create_department(viewer, org_id, body)

    @router.put("/orgs/{org_id}/departments/{department_id}")
    async def update_department(
        org_id: str, department_id: str, body: DepartmentUpdateIn, viewer: CurrentViewer
    ) -> DepartmentOut:
        """Rename a department, move it under another (or to the top with `parent_id:
        null`), or set its head (`head_id`, a member; null clears). Owners and admins."""
        return await orgs.do_update_department(viewer, org_id, department_id, body)

    @router.get("/orgs/{org_id}/departments")
    async def list_departments(org_id: str, viewer: CurrentViewer) -> DepartmentList:
        """Every department of the team, flat (build the tree from parent_id). Members."""
        return await orgs.list_departments(viewer, org_id)

    return router
