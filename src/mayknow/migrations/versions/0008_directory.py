"""matching directory: the log that keeps every process's in-memory directory exact

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_changes",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_directory_changes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_directory_changes")),
    )
    with op.batch_alter_table("directory_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_changes_user_id"), ["user_id"], unique=False)
    head = op.create_table(
        "directory_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("purged_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "purged_through": 0}])


def downgrade() -> None:
    op.drop_table("directory_head")
    with op.batch_alter_table("directory_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_changes_user_id"))
    op.drop_table("directory_changes")
