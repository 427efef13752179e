"""contact discovery: matched edges, quotas, discovery tags

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:18:01.872207
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "discovery_changes",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("tag8", sa.LargeBinary(length=8), nullable=True),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_discovery_changes")),
    )
    with op.batch_alter_table("discovery_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_discovery_changes_tag8"), ["tag8"], unique=False)

    op.create_table(
        "contact_edges",
        sa.Column("uploader_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["users.id"],
            name=op.f("fk_contact_edges_contact_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"],
            ["users.id"],
            name=op.f("fk_contact_edges_uploader_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uploader_id", "contact_id", name=op.f("pk_contact_edges")),
    )
    with op.batch_alter_table("contact_edges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_edges_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "discovery_quotas",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("permits", sa.Integer(), nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_digest", sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_discovery_quotas_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_discovery_quotas")),
    )
    op.create_table(
        "discovery_tags",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_discovery_tags_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_discovery_tags")),
        sa.UniqueConstraint("tag", name=op.f("uq_discovery_tags_tag")),
    )


def downgrade() -> None:
    op.drop_table("discovery_tags")
    op.drop_table("discovery_quotas")
    with op.batch_alter_table("contact_edges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_edges_contact_id"))

    op.drop_table("contact_edges")
    with op.batch_alter_table("discovery_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discovery_changes_tag8"))

    op.drop_table("discovery_changes")
