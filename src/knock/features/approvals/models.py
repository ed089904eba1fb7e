"""Approval tables. Templates keep every version; an approval points at the version it was
submitted on. Steps and approvers are kept per round (a resubmission starts a new round), and
the audit trail is append-only: no code path updates or deletes its rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from knock.core.models import Base, IdColumn, UTCDateTime


class ApprovalTemplate(Base):
    __tablename__ = "approval_templates"
    __table_args__ = (UniqueConstraint("org_id", "builtin"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    # leave | expense | general for the templates every team starts with, else NULL.
    builtin: Mapped[str | None] = mapped_column(String(16), nullable=True)
    version: Mapped[int] = mapped_column(Integer)  # the current version
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApprovalTemplateVersion(Base):
    __tablename__ = "approval_template_versions"

    template_id: Mapped[str] = mapped_column(
        ForeignKey("approval_templates.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    icon: Mapped[str | None] = mapped_column(String(32), nullable=True)
    fields: Mapped[str] = mapped_column(Text)  # JSON list of FormField
    flow: Mapped[str] = mapped_column(Text)  # JSON Flow
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("org_id", "submitter_id", "client_request_id"),
        ForeignKeyConstraint(
            ["template_id", "template_version"],
            ["approval_template_versions.template_id", "approval_template_versions.version"],
            ondelete="CASCADE",
        ),
        Index("ix_approvals_org_id_created_at", "org_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    template_id: Mapped[str] = mapped_column(IdColumn())
    template_version: Mapped[int] = mapped_column(Integer)
    submitter_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    client_request_id: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the submitted body, to tell a retry (same body) from a reused id.
    request_hash: Mapped[str] = mapped_column(String(64))
    values: Mapped[str] = mapped_column(Text)  # JSON, as validated and normalized
    computed: Mapped[str] = mapped_column(Text)  # JSON: working_days, total
    status: Mapped[str] = mapped_column(String(16))  # pending|approved|rejected|withdrawn
    round: Mapped[int] = mapped_column(Integer)
    current_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    summary: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApprovalStep(Base):
    __tablename__ = "approval_steps"

    approval_id: Mapped[str] = mapped_column(
        ForeignKey("approvals.id", ondelete="CASCADE"), primary_key=True
    )
    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(8))  # all | any
    status: Mapped[str] = mapped_column(String(16))
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)


class ApprovalApprover(Base):
    __tablename__ = "approval_approvers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["approval_id", "round", "position"],
            ["approval_steps.approval_id", "approval_steps.round", "approval_steps.position"],
            ondelete="CASCADE",
        ),
    )

    approval_id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApprovalCc(Base):
    __tablename__ = "approval_cc"

    approval_id: Mapped[str] = mapped_column(
        ForeignKey("approvals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApprovalAudit(Base):
    __tablename__ = "approval_audit"

    approval_id: Mapped[str] = mapped_column(
        ForeignKey("approvals.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    hash: Mapped[str] = mapped_column(String(64))


class ApprovalMedia(Base):
    """A file an approval's attachment answers name: held (``media.approval_holds``) so the
    sweeper of unsent uploads spares it, and served to whoever may see the approval."""

    __tablename__ = "approval_media"

    approval_id: Mapped[str] = mapped_column(
        ForeignKey("approvals.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[str] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True, index=True
    )
