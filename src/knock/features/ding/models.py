"""DING tables: the DINGs, each recipient's place on the escalation ladder (with the lease
that keeps two nodes from sending one step twice), the steps taken, the team's ladder
settings and the sends counted against the hourly limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from knock.core.models import Base, IdColumn, UTCDateTime


class DingSettings(Base):
    """A team's escalation ladder; a team without a row uses the defaults."""

    __tablename__ = "ding_settings"

    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    email_after_s: Mapped[int] = mapped_column(Integer)
    gateway_after_s: Mapped[int] = mapped_column(Integer)
    email_enabled: Mapped[bool] = mapped_column(Boolean)
    gateway_enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Ding(Base):
    """One DING. The ladder the team had when it was sent is copied here, so a later change
    of the team's settings does not move steps already planned."""

    __tablename__ = "dings"
    __table_args__ = (
        UniqueConstraint("sender_id", "client_ding_id"),
        Index("ix_dings_org_id_sender_id_id", "org_id", "sender_id", "id"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_ding_id: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the request body, to tell a retry (same body) from a reused id.
    request_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # A DING about a message (its text is read when a step is sent, so a recall holds).
    message_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )
    conversation_id: Mapped[str | None] = mapped_column(IdColumn(), nullable=True)
    recipient_count: Mapped[int] = mapped_column(Integer)
    email_after_s: Mapped[int] = mapped_column(Integer)
    gateway_after_s: Mapped[int] = mapped_column(Integer)
    email_enabled: Mapped[bool] = mapped_column(Boolean)
    gateway_enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DingRecipient(Base):
    """One recipient of a DING and where they are on its ladder.

    ``next_step`` is due at ``next_step_at``; a node claims it by setting ``lease_owner``
    and ``lease_until`` (a compare-and-set committed before sending) and clears them when it
    records the step. Confirming clears ``next_step``.
    """

    __tablename__ = "ding_recipients"
    __table_args__ = (Index("ix_ding_recipients_user_id_ding_id", "user_id", "ding_id"),)

    ding_id: Mapped[str] = mapped_column(
        ForeignKey("dings.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the ladder (re)started: the DING, or the last re-DING.
    dinged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_step: Mapped[str] = mapped_column(String(16))
    last_step_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_step: Mapped[str | None] = mapped_column(String(16), nullable=True)
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    # Failed tries of next_step so far (it is retried a few times, then passed over).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DingStep(Base):
    """What happened to one step for one recipient: sent, failed, or passed over."""

    __tablename__ = "ding_steps"
    __table_args__ = (Index("ix_ding_steps_ding_id_user_id", "ding_id", "user_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    ding_id: Mapped[str] = mapped_column(ForeignKey("dings.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(IdColumn())
    step: Mapped[str] = mapped_column(String(16))
    # sent | failed | not_configured | skipped
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DingSend(Base):
    """A DING or re-DING a sender made: counted against ``KNOCK_DING_PER_HOUR`` on every
    node, since it lives in the database."""

    __tablename__ = "ding_sends"
    __table_args__ = (Index("ix_ding_sends_sender_id_created_at", "sender_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ding_id: Mapped[str] = mapped_column(ForeignKey("dings.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
