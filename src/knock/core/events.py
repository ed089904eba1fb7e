"""Typed events and their audience; events are stored and sent only after commit.

A feature emits an event inside its write transaction (``txn.emit``). When the transaction
commits, the event log has given it a global, gapless id (its cursor) in commit order, and
only then is it published to the broker. A rolled-back transaction sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from knock.core.db import RawTransaction


class Event(BaseModel):
    """Base of every event; subclasses set ``type: Literal["<name>"] = "<name>"``."""

    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)
    type: str


@dataclass(frozen=True)
class Audience:
    """Who receives an event: members of a conversation, of an org, and/or named users."""

    conversation_id: str | None = None
    org_id: str | None = None
    user_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class PendingEvent:
    event: Event
    audience: Audience


@dataclass(frozen=True)
class StoredEvent:
    """An event with its cursor id and its frame, serialized once for every recipient."""

    id: int
    type: str
    frame: bytes
    audience: Audience = field(default_factory=Audience)


# Every event frame opens with its cursor (the migration's knock_send_text writes the same).
_CURSOR_HEAD = b'{"cursor":"%d",'


def encode_frame(event_id: int, event: Event) -> bytes:
    body = event.model_dump_json().encode()
    return _CURSOR_HEAD % event_id + body[1:]


def split_frame(event: Event, number_key: str) -> tuple[bytes, bytes]:
    """The frame of ``event``, whose ``number_key`` (found once in it) holds 0, cut where its
    cursor and that number go, for a writer that learns both only in the database:
    ``join_frame(i, before, n, after)`` is then the frame of the event with n there."""
    body = event.model_dump_json().encode()[1:]
    # A string's quotes are escaped in JSON: this can only be the key itself.
    marker = b'"%s":0' % number_key.encode()
    before, found, after = body.partition(marker)
    if not found or marker in after or after[:1].isdigit():
        raise ValueError(f"{number_key} is not in the frame once, as 0")
    return before + marker[:-1], after


def join_frame(event_id: int, before: bytes, number: int, after: bytes) -> bytes:
    return _CURSOR_HEAD % event_id + before + b"%d" % number + after


class EventSink(Protocol):
    """Stores events inside the transaction and publishes them after it commits."""

    async def append_txn(
        self, session: AsyncSession, pending: list[PendingEvent]
    ) -> list[StoredEvent]: ...

    async def append_raw(
        self, txn: RawTransaction, pending: list[PendingEvent]
    ) -> list[StoredEvent]: ...

    async def publish(self, stored: list[StoredEvent]) -> None: ...
