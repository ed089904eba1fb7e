from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from knock.core.schemas import Id, NonBlank, Schema, Timestamp

# A leaf module (core imports only), so this is no import cycle: messages imports
# conversations' actions, conversations only borrows the shape of a message.
from knock.features.messages.schemas import MessageOut

Title = Annotated[str, Field(min_length=1, max_length=100), NonBlank]
# The schema bound is the hard ceiling; the action enforces settings.max_group_members.
MAX_MEMBER_IDS = 100_000
MAX_ADD_MEMBERS = 1000
CONVERSATION_PAGE_MAX = 200
CONVERSATION_PAGE_DEFAULT = 50
MEMBER_PAGE_MAX = 1000
MEMBER_PAGE_DEFAULT = 200
DEFAULT_GROUP_TITLE = "Group"


class CreateConversationIn(Schema):
    kind: Literal["dm", "group"]
    member_ids: Annotated[list[Id], Field(max_length=MAX_MEMBER_IDS)]
    title: Title | None = None


class UpdateConversationIn(Schema):
    title: Title


class AddMembersIn(Schema):
    user_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_ADD_MEMBERS)]


class ConversationOut(BaseModel):
    id: str
    org_id: str
    kind: Literal["dm", "group"]
    title: str | None
    created_by: str
    created_at: Timestamp
    member_count: int
    last_seq: int
    # The caller's: how far they have read, and how many messages they have not.
    read_seq: int
    unread_count: int
    last_message: MessageOut | None
    # The other person of a dm (for the caller); null for groups.
    peer_id: str | None


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_before: str | None


class ConversationMemberOut(BaseModel):
    user_id: str
    display_name: str
    role: str
    read_seq: int
    joined_at: Timestamp


class ConversationMemberPage(BaseModel):
    items: list[ConversationMemberOut]
    next_after: str | None


class AddedMembersOut(BaseModel):
    added: list[str]
