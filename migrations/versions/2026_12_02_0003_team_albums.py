"""team albums and their items

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import knock.core.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "albums",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("org_id", sa.String(length=26), nullable=False),
        sa.Column("conversation_id", sa.String(length=26), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.String(length=26), nullable=False),
        sa.Column("created_at", knock.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", knock.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_albums_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_albums_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_albums_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_albums")),
    )
    with op.batch_alter_table("albums", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_albums_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_albums_conversation_id"), ["conversation_id"], unique=False
        )

    op.create_table(
        "album_items",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("album_id", sa.String(length=26), nullable=False),
        sa.Column("added_by", sa.String(length=26), nullable=False),
        sa.Column("client_item_id", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=26), nullable=False),
        sa.Column("voice_media_id", sa.String(length=26), nullable=True),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("source_message_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", knock.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"],
            ["albums.id"],
            name=op.f("fk_album_items_album_id_albums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name=op.f("fk_album_items_added_by_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_album_items_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voice_media_id"],
            ["media.id"],
            name=op.f("fk_album_items_voice_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_album_items")),
        sa.UniqueConstraint(
            "album_id",
            "added_by",
            "client_item_id",
            name=op.f("uq_album_items_album_id_added_by_client_item_id"),
        ),
    )
    with op.batch_alter_table("album_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_album_items_album_id"), ["album_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_album_items_media_id"), ["media_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_album_items_voice_media_id"), ["voice_media_id"], unique=False
        )

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("album_holds", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("album_holds")
    with op.batch_alter_table("album_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_album_items_voice_media_id"))
        batch_op.drop_index(batch_op.f("ix_album_items_media_id"))
        batch_op.drop_index(batch_op.f("ix_album_items_album_id"))
    op.drop_table("album_items")
    with op.batch_alter_table("albums", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_albums_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_albums_org_id"))
    op.drop_table("albums")
