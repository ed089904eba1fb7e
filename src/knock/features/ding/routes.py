# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from knock.core.ids import ID_LENGTH
from knock.features.accounts.actions import Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.ding.actions import Dings
from knock.features.ding.schemas import (
    DING_PAGE_DEFAULT,
    DING_PAGE_MAX,
    Box,
    CreateDingIn,
    DingOut,
    DingPage,
    DingSettingsIn,
    DingSettingsOut,
    RedingIn,
)


def build_router(dings: Dings, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["ding"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post("/orgs/{org_id}/dings", status_code=201)
    async def create_ding(
        org_id: str, body: CreateDingIn, viewer: CurrentViewer, response: Response
    ) -> DingOut:
        """DING people of the team: a loud alert now, then email and the gateway until each
        confirms. Team members; recipients must be in the team (and, for a message, in its
        conversation). A retry with the same client_ding_id and body answers 200 with the
        original; another body 409. 429 beyond KNOCK_DING_PER_HOUR."""
        ding, created = await dings.do_create_ding(viewer.user_id, org_id, body)
        if not created:
            response.status_code = 200
        return ding

    @router.get("/orgs/{org_id}/dings")
    async def list_dings(
        org_id: str,
        viewer: CurrentViewer,
        box: Box = "received",
        unconfirmed: bool | None = None,
        before: Annotated[str | None, Query(max_length=ID_LENGTH)] = None,
        limit: Annotated[int, Query(ge=1, le=DING_PAGE_MAX)] = DING_PAGE_DEFAULT,
    ) -> DingPage:
        """The caller's DINGs in a team, newest first: received or sent; ``unconfirmed``
        filters (received: by the caller; sent: by anyone). Team members."""
        return await dings.dings(viewer.user_id, org_id, box, unconfirmed, before, limit)

    @router.get("/dings/{ding_id}")
    async def get_ding(ding_id: str, viewer: CurrentViewer) -> DingOut:
        """One DING. Its sender (with every recipient's state) and its recipients (with
        their own), while in its team."""
        return await dings.ding(viewer.user_id, ding_id)

    @router.post("/dings/{ding_id}/confirm")
    async def confirm_ding(ding_id: str, viewer: CurrentViewer) -> DingOut:
        """Confirm a DING: its ladder stops for the caller. Recipients only (the sender gets
        403); confirming again answers the same."""
        return await dings.do_confirm(viewer.user_id, ding_id)

    @router.post("/dings/{ding_id}/reding")
    async def reding(ding_id: str, viewer: CurrentViewer, body: RedingIn | None = None) -> DingOut:
        """Alert recipients who have not confirmed again and restart their ladders (all of
        them, or those listed). The sender only; counts against KNOCK_DING_PER_HOUR."""
        return await dings.do_reding(viewer.user_id, ding_id, body or RedingIn())

    @router.get("/orgs/{org_id}/ding-settings")
    async def get_ding_settings(org_id: str, viewer: CurrentViewer) -> DingSettingsOut:
        """The team's escalation ladder. Team members."""
        return await dings.ding_settings(viewer.user_id, org_id)

    @router.put("/orgs/{org_id}/ding-settings")
    async def put_ding_settings(
        org_id: str, body: DingSettingsIn, viewer: CurrentViewer
    ) -> DingSettingsOut:
        """Set the team's escalation ladder for DINGs sent from now on. Team admins (403
        for members)."""
        return await dings.do_update_ding_settings(viewer.user_id, org_id, body)

    return router
