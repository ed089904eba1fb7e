from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from knock.core.schemas import Schema


class ReadIn(Schema):
    # Clamped to the conversation's last_seq; a cursor never moves back.
    up_to_seq: Annotated[int, Field(ge=0, le=2**31 - 1)]


class ReceiptRange(BaseModel):
    """The user has now read the messages with from_seq < seq <= up_to_seq."""

    user_id: str
    from_seq: int
    up_to_seq: int


class MessageReceiptsOut(BaseModel):
    read: list[str]
    unread: list[str]
    read_count: int
    unread_count: int
