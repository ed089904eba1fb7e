"""Team and conversation albums, and the photos and voice photos in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from knock.core.models import Base, IdColumn, UTCDateTime


class Album(Base):
    """A team album (``conversation_id`` null: every member of the org sees it) or a
    conversation album (the conversation's members see it)."""

    __tablename__ = "albums"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlbumItem(Base):
    """A photo or voice photo in an album. It holds its media rows (``media.album_holds``
    counts the items holding each) so the sweeper of unsent uploads leaves them alone; a
    media row that goes (a recalled message's) takes the item with it."""

    __tablename__ = "album_items"
    __table_args__ = (UniqueConstraint("album_id", "added_by", "client_item_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    added_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_item_id: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the request body, to tell a retry (same body) from a reused id.
    request_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # image | voice_photo
    media_id: Mapped[str] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    voice_media_id: Mapped[str | None] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), nullable=True, index=True
    )
    caption: Mapped[str] = mapped_column(Text, default="")
    source_message_id: Mapped[str | None] = mapped_column(IdColumn(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
