# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from knock.features.accounts.actions import Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.conversations.actions import Conversations
from knock.features.conversations.schemas import (
    CONVERSATION_PAGE_DEFAULT,
    CONVERSATION_PAGE_MAX,
    MEMBER_PAGE_DEFAULT,
    MEMBER_PAGE_MAX,
    AddedMembersOut,
    AddMembersIn,
    ConversationMemberPage,
    ConversationOut,
    ConversationPage,
    CreateConversationIn,
    UpdateConversationIn,
)


def build_router(conversations: Conversations, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["conversations"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post("/orgs/{org_id}/conversations", status_code=201)
    async def create_conversation(
        org_id: str, body: CreateConversationIn, viewer: CurrentViewer, response: Response
    ) -> ConversationOut:
        """Start a dm or a group with people of the team. Any member of the team may; a dm
        that already exists for the pair is answered with 200."""
        conversation, created = await conversations.do_create_conversation(
            viewer.user_id, org_id, body
        )
        if not created:
            response.status_code = 200
        return conversation

    @router.get("/conversations")
    async def list_conversations(
        viewer: CurrentViewer,
        org_id: Annotated[str | None, Query(max_length=26)] = None,
        before: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=CONVERSATION_PAGE_MAX)] = CONVERSATION_PAGE_DEFAULT,
    ) -> ConversationPage:
        """The caller's conversations, newest activity first, with unread counts and the
        last message. Pass ``next_before`` as ``before`` for the next page."""
        return await conversations.conversations(viewer.user_id, org_id, before, limit)

    @router.get("/conversations/{conversation_id}")
    async def get_conversation(conversation_id: str, viewer: CurrentViewer) -> ConversationOut:
        """One conversation. Its members only."""
        return await conversations.conversation(viewer.user_id, conversation_id)

    @router.patch("/conversations/{conversation_id}")
    async def update_conversation(
        conversation_id: str, body: UpdateConversationIn, viewer: CurrentViewer
    ) -> ConversationOut:
        """Rename a group. Any member of the group."""
        return await conversations.do_update_conversation(
            viewer.user_id, conversation_id, body.title
        )

    @router.get("/conversations/{conversation_id}/members")
    async def list_members(
        conversation_id: str,
        viewer: CurrentViewer,
        after: Annotated[str | None, Query(max_length=26)] = None,
        limit: Annotated[int, Query(ge=1, le=MEMBER_PAGE_MAX)] = MEMBER_PAGE_DEFAULT,
    ) -> ConversationMemberPage:
        """The conversation's members with their read position, by user id. Its members only."""
        return await conversations.members(viewer.user_id, conversation_id, after, limit)

    @router.post("/conversations/{conversation_id}/members")
    async def add_members(
        conversation_id: str, body: AddMembersIn, viewer: CurrentViewer
    ) -> AddedMembersOut:
        """Add people of the team to a group. Any member of the group."""
        added = await conversations.do_add_members(viewer.user_id, conversation_id, body.user_ids)
        return AddedMembersOut(added=added)

    @router.delete("/conversations/{conversation_id}/members/{user_id}", status_code=204)
    async def remove_member(conversation_id: str, user_id: str, viewer: CurrentViewer) -> Response:
        """Leave a group (your own id), or remove someone: the group's owner or a team admin."""
        await conversations.do_remove_member(viewer.user_id, conversation_id, user_id)
        return Response(status_code=204)

    return router
