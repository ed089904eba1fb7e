from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from knock.core.models import Base, IdColumn, UTCDateTime


class BurnMessage(Base):
    """A burn-after-reading message: how long each reader has once they open it, when it
    goes whatever happens, and whether it is gone (``burned_at``)."""

    __tablename__ = "burn_messages"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[str] = mapped_column(IdColumn())
    sender_id: Mapped[str] = mapped_column(IdColumn())
    burn_after_s: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    hard_expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The event log's head before the message was sent: its events all come after it, so
    # the purge rewrites frames from there on only.
    first_event_id: Mapped[int] = mapped_column(BigInteger)
    burned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BurnReader(Base):
    """One recipient's opening of a burn message; their copy burns at ``expires_at``."""

    __tablename__ = "burn_readers"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("burn_messages.message_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
