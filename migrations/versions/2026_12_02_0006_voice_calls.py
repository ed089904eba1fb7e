"""voice conferences and their participants

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import knock.core.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("org_id", sa.String(length=26), nullable=False),
        sa.Column("conversation_id", sa.String(length=26), nullable=False),
        sa.Column("active_conversation_id", sa.String(length=26), nullable=True),
        sa.Column("started_by", sa.String(length=26), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("node_url", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("started_at", knock.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", knock.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_until", knock.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_calls_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_calls_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["started_by"],
            ["users.id"],
            name=op.f("fk_calls_started_by_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("active_conversation_id", name=op.f("uq_calls_active_conversation_id")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calls_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_calls_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_org_id"), ["org_id"], unique=False)

    op.create_table(
        "call_participants",
        sa.Column("call_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("joined_at", knock.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("left_at", knock.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_participants_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_call_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_id", "user_id", name=op.f("pk_call_participants")),
    )


def downgrade() -> None:
    op.drop_table("call_participants")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_org_id"))
        batch_op.drop_index(batch_op.f("ix_calls_node_id"))
        batch_op.drop_index(batch_op.f("ix_calls_conversation_id"))
    op.drop_table("calls")
