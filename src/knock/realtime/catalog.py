"""Every realtime event type, for the gateway's docs and the web client's generated types.

A feature that adds an event class adds it to ``EVENT_TYPES``; a test checks that every
``Event`` subclass in Knock is listed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from knock.core.events import Event
from knock.features.accounts.events import SessionRevoked
from knock.features.albums.events import AlbumUpdated
from knock.features.approvals.events import ApprovalCreated, ApprovalUpdated
from knock.features.burn.events import MessageBurned
from knock.features.calls.events import CallEnded, CallStarted, CallUpdated
from knock.features.conversations.events import (
    ConversationCreated,
    ConversationUpdated,
    MemberJoined,
    MemberLeft,
)
from knock.features.ding.events import DingCreated, DingUpdated
from knock.features.messages.events import MessageCreated, MessageUpdated
from knock.features.orgs.events import (
    OrgDepartmentCreated,
    OrgDepartmentUpdated,
    OrgMemberJoined,
    OrgMemberRemoved,
    OrgMemberUpdated,
)
from knock.features.receipts.events import ReceiptUpdated


class _Frame(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class Ready(_Frame):
    """Sent after the replay: everything up to ``cursor`` has been sent."""

    type: Literal["ready"] = "ready"
    cursor: str


class ResyncRequired(_Frame):
    """The cursor was too old: refetch over HTTP, then continue from ``cursor``."""

    type: Literal["resync_required"] = "resync_required"
    cursor: str


class Ping(_Frame):
    type: Literal["ping"] = "ping"


class Pong(_Frame):
    type: Literal["pong"] = "pong"


EVENT_TYPES: list[type[Event]] = [
    SessionRevoked,
    MessageCreated,
    MessageUpdated,
    MessageBurned,
    ConversationCreated,
    ConversationUpdated,
    AlbumUpdated,
    MemberJoined,
    MemberLeft,
    ReceiptUpdated,
    OrgMemberJoined,
    OrgMemberUpdated,
    OrgMemberRemoved,
    OrgDepartmentCreated,
    OrgDepartmentUpdated,
    ApprovalCreated,
    ApprovalUpdated,
    DingCreated,
    DingUpdated,
    CallStarted,
    CallUpdated,
    CallEnded,
]
CONTROL_FRAMES: list[type[BaseModel]] = [Ready, ResyncRequired, Ping, Pong]


def events_json_schema() -> dict[str, Any]:
    """One JSON Schema with a definition per frame type; event frames also carry ``cursor``."""
    definitions: dict[str, Any] = {}
    for model in [*EVENT_TYPES, *CONTROL_FRAMES]:
        schema = TypeAdapter(model).json_schema(
            ref_template="#/definitions/{model}", mode="serialization"
        )
        nested = schema.pop("$defs", {})
        definitions.update(nested)
        if issubclass(model, Event):
            schema["properties"]["cursor"] = {"type": "string"}
            schema.setdefault("required", []).append("cursor")
        definitions[model.__name__] = schema
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "KnockFrames",
        "definitions": definitions,
        "oneOf": [{"$ref": f"#/definitions/{m.__name__}"} for m in [*EVENT_TYPES, *CONTROL_FRAMES]],
    }
