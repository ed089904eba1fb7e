from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from knock.core.models import Base, IdColumn, UTCDateTime


class Media(Base):
    """An uploaded file. Unattached (``message_id`` null) it is its owner's alone; once a
    message holds it, whoever may see that message's content may fetch it. A file is
    attached at most once. Album items hold files too (``album_holds`` counts them): whoever
    may see such an album may fetch them, and the sweeper of unsent uploads skips them.
    Approvals hold their attachments the same way (``approval_holds``)."""

    __tablename__ = "media"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    waveform: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    thumb_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thumb_mime: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The message's conversation, copied at attach time so access needs no join.
    conversation_id: Mapped[str | None] = mapped_column(IdColumn(), nullable=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    # A counter on the row itself, changed under the row's lock: the sweeper's DELETE then
    # re-checks it after waiting for an adding transaction (a NOT EXISTS would not).
    album_holds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Approvals whose answers name this file (see approvals' ``approval_media``), kept on the
    # row for the same reason.
    approval_holds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
