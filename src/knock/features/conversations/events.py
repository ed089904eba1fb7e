"""Conversation events. The gateway subscribes and unsubscribes sockets on
conversation.created / member.joined / member.left: keep these field names."""

from __future__ import annotations

from typing import Literal

from knock.core.events import Event
from knock.features.conversations.schemas import ConversationOut


class ConversationCreated(Event):
    """The same frame goes to every member: peer_id null, read_seq and unread_count 0.
    ``member_ids`` lists at most 100 members (all of a dm or a small group); when
    ``conversation.member_count`` is larger, fetch the member list."""

    type: Literal["conversation.created"] = "conversation.created"
    conversation: ConversationOut
    member_ids: list[str]


class ConversationUpdated(Event):
    type: Literal["conversation.updated"] = "conversation.updated"
    conversation_id: str
    title: str | None


class MemberJoined(Event):
    type: Literal["member.joined"] = "member.joined"
    conversation_id: str
    user_ids: list[str]


class MemberLeft(Event):
    """Also sent to the one who left (or was removed), so their devices drop the conversation."""

    type: Literal["member.left"] = "member.left"
    conversation_id: str
    user_id: str
