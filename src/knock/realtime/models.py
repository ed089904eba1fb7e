"""The event log: every event with its cursor id, kept for resume until pruned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from knock.core.models import Base, IdColumn, UTCDateTime


class EventCounter(Base):
    """One row; bumping it inside a transaction gives gapless ids in commit order."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)
    pruned_upto: Mapped[int] = mapped_column(BigInteger, default=0)


class StoredEventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(IdColumn(), nullable=True, index=True)
    org_id: Mapped[str | None] = mapped_column(IdColumn(), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    frame: Mapped[bytes] = mapped_column(LargeBinary)


class EventRecipient(Base):
    __tablename__ = "event_recipients"
    __table_args__ = (Index("ix_event_recipients_user", "user_id", "event_id"),)

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
