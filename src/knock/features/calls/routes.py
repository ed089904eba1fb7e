# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from knock.features.accounts.actions import Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.calls.actions import Calls
from knock.features.calls.schemas import CallOut, JoinCallIn, JoinCallOut, MuteIn


def build_router(calls: Calls, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["calls"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post("/conversations/{conversation_id}/calls", status_code=201)
    async def start_call(
        conversation_id: str, viewer: CurrentViewer, response: Response
    ) -> CallOut:
        """Start a voice conference in the conversation, pinned to this node. Members of the
        conversation. When one is already going on, answers 200 with it (join that one)."""
        call, created = await calls.do_start_call(viewer.user_id, conversation_id)
        if not created:
            response.status_code = 200
        return call

    @router.get("/conversations/{conversation_id}/call")
    async def active_call(conversation_id: str, viewer: CurrentViewer) -> CallOut:
        """The conversation's voice conference going on now, or 404. Members only."""
        return await calls.active_call(viewer.user_id, conversation_id)

    @router.get("/calls/{call_id}")
    async def get_call(call_id: str, viewer: CurrentViewer) -> CallOut:
        """A call (going on or ended) with who is in it. Members of its conversation."""
        return await calls.call(viewer.user_id, call_id)

    @router.post("/calls/{call_id}/join")
    async def join_call(call_id: str, body: JoinCallIn, viewer: CurrentViewer) -> JoinCallOut:
        """Join with an SDP offer (ICE gathering complete): the answer, the call and the
        ICE servers. Members of the conversation, on the call's node (else 409
        call_on_other_node); 409 call_full at KNOCK_CALL_MAX_PARTICIPANTS, call_ended."""
        return await calls.do_join_call(viewer.user_id, call_id, body.sdp)

    @router.post("/calls/{call_id}/leave")
    async def leave_call(call_id: str, viewer: CurrentViewer) -> CallOut:
        """Leave the call; the last one out ends it. Members of the conversation; leaving a
        call one is not in changes nothing."""
        return await calls.do_leave_call(viewer.user_id, call_id)

    @router.post("/calls/{call_id}/mute")
    async def mute(call_id: str, body: MuteIn, viewer: CurrentViewer) -> CallOut:
        """Mute or unmute yourself: the others stop (or start again) hearing you. Those in
        the call (else 409 not_in_call)."""
        return await calls.do_mute(viewer.user_id, call_id, body.muted)

    @router.post("/calls/{call_id}/end")
    async def end_call(call_id: str, viewer: CurrentViewer) -> CallOut:
        """End the call for everyone: whoever started it, the group's owner or an org admin
        (else 403). Members of the conversation."""
        return await calls.do_end_call(viewer.user_id, call_id)

    return router
