"""DING urgent messages, recipients and escalation steps

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import knock.core.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, knock.core.models.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ding_settings",
        sa.Column("org_id", sa.String(length=26), nullable=False),
        sa.Column("email_after_s", sa.Integer(), nullable=False),
        sa.Column("gateway_after_s", sa.Integer(), nullable=False),
        sa.Column("email_enabled", sa.Boolean(), nullable=False),
        sa.Column("gateway_enabled", sa.Boolean(), nullable=False),
        _when("updated_at"),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_ding_settings_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_ding_settings")),
    )
    op.create_table(
        "dings",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("org_id", sa.String(length=26), nullable=False),
        sa.Column("sender_id", sa.String(length=26), nullable=False),
        sa.Column("client_ding_id", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=26), nullable=True),
        sa.Column("conversation_id", sa.String(length=26), nullable=True),
        sa.Column("recipient_count", sa.Integer(), nullable=False),
        sa.Column("email_after_s", sa.Integer(), nullable=False),
        sa.Column("gateway_after_s", sa.Integer(), nullable=False),
        sa.Column("email_enabled", sa.Boolean(), nullable=False),
        sa.Column("gateway_enabled", sa.Boolean(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_dings_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_dings_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["users.id"], name=op.f("fk_dings_sender_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dings")),
        sa.UniqueConstraint(
            "sender_id", "client_ding_id", name=op.f("uq_dings_sender_id_client_ding_id")
        ),
    )
    op.create_index(
        "ix_dings_org_id_sender_id_id", "dings", ["org_id", "sender_id", "id"], unique=False
    )
    op.create_table(
        "ding_recipients",
        sa.Column("ding_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        _when("confirmed_at", nullable=True),
        _when("dinged_at"),
        sa.Column("last_step", sa.String(length=16), nullable=False),
        _when("last_step_at"),
        sa.Column("next_step", sa.String(length=16), nullable=True),
        _when("next_step_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        _when("lease_until", nullable=True),
        sa.ForeignKeyConstraint(
            ["ding_id"],
            ["dings.id"],
            name=op.f("fk_ding_recipients_ding_id_dings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ding_recipients_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ding_id", "user_id", name=op.f("pk_ding_recipients")),
    )
    op.create_index(
        "ix_ding_recipients_user_id_ding_id",
        "ding_recipients",
        ["user_id", "ding_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ding_recipients_next_step_at"), "ding_recipients", ["next_step_at"], unique=False
    )
    op.create_table(
        "ding_steps",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("ding_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["ding_id"], ["dings.id"], name=op.f("fk_ding_steps_ding_id_dings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ding_steps")),
    )
    op.create_index(
        "ix_ding_steps_ding_id_user_id", "ding_steps", ["ding_id", "user_id"], unique=False
    )
    op.create_table(
        "ding_sends",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("sender_id", sa.String(length=26), nullable=False),
        sa.Column("ding_id", sa.String(length=26), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["ding_id"], ["dings.id"], name=op.f("fk_ding_sends_ding_id_dings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["users.id"],
            name=op.f("fk_ding_sends_sender_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ding_sends")),
    )
    op.create_index(
        "ix_ding_sends_sender_id_created_at",
        "ding_sends",
        ["sender_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ding_sends_sender_id_created_at", table_name="ding_sends")
    op.drop_table("ding_sends")
    op.drop_index("ix_ding_steps_ding_id_user_id", table_name="ding_steps")
    op.drop_table("ding_steps")
    op.drop_index(op.f("ix_ding_recipients_next_step_at"), table_name="ding_recipients")
    op.drop_index("ix_ding_recipients_user_id_ding_id", table_name="ding_recipients")
    op.drop_table("ding_recipients")
    op.drop_index("ix_dings_org_id_sender_id_id", table_name="dings")
    op.drop_table("dings")
    op.drop_table("ding_settings")
