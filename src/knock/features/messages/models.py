from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from knock.core.models import Base, IdColumn, UTCDateTime


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "sender_id", "client_msg_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    client_msg_id: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the request body, to tell a retry (same body) from a reused id.
    request_hash: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    reply_to_id: Mapped[str | None] = mapped_column(IdColumn(), nullable=True)
    mentions: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of user ids / "all"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    recalled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set on burn-after-reading messages (their state lives in the burn slice's tables).
    burn_after_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Set on `approval` cards: the approval the card shows (its text is only a summary).
    approval_id: Mapped[str | None] = mapped_column(IdColumn(), nullable=True)
