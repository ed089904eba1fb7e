"""Voice conferences ("calls") and who is in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from knock.core.models import Base, IdColumn, UTCDateTime


class Call(Base):
    """One voice conference in a conversation, pinned to the node that holds its media."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # Set (to the conversation id) while the call is active, NULL once it ended: the unique
    # constraint lets a conversation hold at most one active call on every database.
    active_conversation_id: Mapped[str | None] = mapped_column(
        IdColumn(), unique=True, nullable=True
    )
    started_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The process that mixes its audio (random per process) and where clients reach it.
    node_id: Mapped[str] = mapped_column(String(64), index=True)
    node_url: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(8))  # active | ended
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Renewed by the owning node while it runs; a call whose lease ran out lost its node.
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())


class CallParticipant(Base):
    """Someone who joined a call; ``left_at`` is set while they are out of it."""

    __tablename__ = "call_participants"

    call_id: Mapped[str] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
