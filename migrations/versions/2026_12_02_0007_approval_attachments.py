"""approvals hold the files their attachment answers name

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_media",
        sa.Column("approval_id", sa.String(length=26), nullable=False),
        sa.Column("media_id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_approval_media_approval_id_approvals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_approval_media_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("approval_id", "media_id", name=op.f("pk_approval_media")),
    )
    with op.batch_alter_table("approval_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_media_media_id"), ["media_id"], unique=False)

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approval_holds", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("approval_holds")
    with op.batch_alter_table("approval_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_media_media_id"))
    op.drop_table("approval_media")
