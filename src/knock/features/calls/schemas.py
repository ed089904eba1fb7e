"""Call inputs and the call object."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from knock.core.schemas import Schema, Timestamp

# A browser's audio-only offer with its gathered candidates is a few kilobytes; this leaves
# room for many interfaces while keeping a request small.
SDP_MAX_CHARS = 32_000


class JoinCallIn(Schema):
    # The client's SDP offer with its ICE candidates in it (gathering complete, no trickle).
    sdp: Annotated[str, Field(min_length=1, max_length=SDP_MAX_CHARS)]


class MuteIn(Schema):
    muted: bool


class ParticipantOut(BaseModel):
    user_id: str
    joined_at: Timestamp
    muted: bool
    # Heard by the mixer just now; only the node holding the call knows (else false).
    speaking: bool = False


class CallOut(BaseModel):
    id: str
    org_id: str
    conversation_id: str
    started_by: str
    status: Literal["active", "ended"]
    # Where the call's media lives: join it through this node's API.
    node_url: str
    started_at: Timestamp
    ended_at: Timestamp | None
    participants: list[ParticipantOut]


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class JoinCallOut(BaseModel):
    call: CallOut
    # The server's SDP answer; its candidates are in it.
    sdp: str
    ice_servers: list[IceServerOut]
