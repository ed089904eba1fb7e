"""approval templates, submissions, steps and audit trail

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import knock.core.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _id(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=26), nullable=nullable)


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, knock.core.models.UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, columns: list[str], target: str, remote: list[str], ondelete: str) -> Any:
    return sa.ForeignKeyConstraint(
        columns,
        [f"{target}.{c}" for c in remote],
        name=op.f(f"fk_{table}_{columns[0]}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    # The org chart approvals route through: department heads and members' job titles.
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.add_column(_id("head_id", nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_departments_head_id_users"),
            "users",
            ["head_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "org_member_titles",
        _id("org_id"),
        _id("user_id"),
        sa.Column("title", sa.String(length=32), nullable=False),
        _fk(
            "org_member_titles",
            ["org_id", "user_id"],
            "org_members",
            ["org_id", "user_id"],
            "CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", "title", name=op.f("pk_org_member_titles")),
    )
    op.create_index(
        "ix_org_member_titles_org_id_title", "org_member_titles", ["org_id", "title"], unique=False
    )
    # Approval cards in chat.
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(_id("approval_id", nullable=True))

    op.create_table(
        "approval_templates",
        _id("id"),
        _id("org_id"),
        sa.Column("builtin", sa.String(length=16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _fk("approval_templates", ["org_id"], "orgs", ["id"], "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_templates")),
        sa.UniqueConstraint("org_id", "builtin", name=op.f("uq_approval_templates_org_id_builtin")),
    )
    op.create_index(
        op.f("ix_approval_templates_org_id"), "approval_templates", ["org_id"], unique=False
    )
    op.create_table(
        "approval_template_versions",
        _id("template_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("icon", sa.String(length=32), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("flow", sa.Text(), nullable=False),
        _id("created_by", nullable=True),
        _when("created_at"),
        _fk("approval_template_versions", ["created_by"], "users", ["id"], "SET NULL"),
        _fk(
            "approval_template_versions",
            ["template_id"],
            "approval_templates",
            ["id"],
            "CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "template_id", "version", name=op.f("pk_approval_template_versions")
        ),
    )
    op.create_table(
        "approvals",
        _id("id"),
        _id("org_id"),
        _id("template_id"),
        sa.Column("template_version", sa.Integer(), nullable=False),
        _id("submitter_id"),
        sa.Column("client_request_id", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("computed", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=True),
        _id("conversation_id", nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _when("decided_at", nullable=True),
        _fk("approvals", ["conversation_id"], "conversations", ["id"], "SET NULL"),
        _fk("approvals", ["org_id"], "orgs", ["id"], "CASCADE"),
        _fk("approvals", ["submitter_id"], "users", ["id"], "CASCADE"),
        _fk(
            "approvals",
            ["template_id", "template_version"],
            "approval_template_versions",
            ["template_id", "version"],
            "CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint(
            "org_id",
            "submitter_id",
            "client_request_id",
            name=op.f("uq_approvals_org_id_submitter_id_client_request_id"),
        ),
    )
    op.create_index(
        "ix_approvals_org_id_created_at", "approvals", ["org_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_approvals_submitter_id"), "approvals", ["submitter_id"], unique=False)
    op.create_table(
        "approval_audit",
        _id("approval_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _when("at"),
        _id("actor_id", nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        _fk("approval_audit", ["actor_id"], "users", ["id"], "SET NULL"),
        _fk("approval_audit", ["approval_id"], "approvals", ["id"], "CASCADE"),
        sa.PrimaryKeyConstraint("approval_id", "seq", name=op.f("pk_approval_audit")),
    )
    op.create_table(
        "approval_cc",
        _id("approval_id"),
        _id("user_id"),
        _fk("approval_cc", ["approval_id"], "approvals", ["id"], "CASCADE"),
        _fk("approval_cc", ["user_id"], "users", ["id"], "CASCADE"),
        sa.PrimaryKeyConstraint("approval_id", "user_id", name=op.f("pk_approval_cc")),
    )
    op.create_index(op.f("ix_approval_cc_user_id"), "approval_cc", ["user_id"], unique=False)
    op.create_table(
        "approval_steps",
        _id("approval_id"),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        _fk("approval_steps", ["approval_id"], "approvals", ["id"], "CASCADE"),
        sa.PrimaryKeyConstraint("approval_id", "round", "position", name=op.f("pk_approval_steps")),
    )
    op.create_table(
        "approval_approvers",
        _id("approval_id"),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _id("user_id"),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        _when("decided_at", nullable=True),
        _fk(
            "approval_approvers",
            ["approval_id", "round", "position"],
            "approval_steps",
            ["approval_id", "round", "position"],
            "CASCADE",
        ),
        _fk("approval_approvers", ["user_id"], "users", ["id"], "CASCADE"),
        sa.PrimaryKeyConstraint(
            "approval_id", "round", "position", "user_id", name=op.f("pk_approval_approvers")
        ),
    )
    op.create_index(
        op.f("ix_approval_approvers_user_id"), "approval_approvers", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_approval_approvers_user_id"), table_name="approval_approvers")
    op.drop_table("approval_approvers")
    op.drop_table("approval_steps")
    op.drop_index(op.f("ix_approval_cc_user_id"), table_name="approval_cc")
    op.drop_table("approval_cc")
    op.drop_table("approval_audit")
    op.drop_index(op.f("ix_approvals_submitter_id"), table_name="approvals")
    op.drop_index("ix_approvals_org_id_created_at", table_name="approvals")
    op.drop_table("approvals")
    op.drop_table("approval_template_versions")
    op.drop_index(op.f("ix_approval_templates_org_id"), table_name="approval_templates")
    op.drop_table("approval_templates")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("approval_id")
    op.drop_index("ix_org_member_titles_org_id_title", table_name="org_member_titles")
    op.drop_table("org_member_titles")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_departments_head_id_users"), type_="foreignkey")
        batch_op.drop_column("head_id")
