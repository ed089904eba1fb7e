# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from knock.features.accounts.actions import Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.receipts.actions import Receipts
from knock.features.receipts.schemas import MessageReceiptsOut, ReadIn


def build_router(receipts: Receipts, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["receipts"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post("/conversations/{conversation_id}/read", status_code=204)
    async def mark_read(conversation_id: str, body: ReadIn, viewer: CurrentViewer) -> Response:
        """Mark the conversation read up to a seq (never backwards). Its members."""
        await receipts.do_mark_read(viewer.user_id, conversation_id, body.up_to_seq)
        return Response(status_code=204)

    @router.get("/messages/{message_id}/receipts")
    async def message_receipts(message_id: str, viewer: CurrentViewer) -> MessageReceiptsOut:
        """Which other members have read a message. Its sender or team admins; else 404."""
        return await receipts.message_receipts(viewer.user_id, message_id)

    return router
