"""suggestions: friend-of-friend candidates, dismissals, blocks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:21:55.852035
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("blocker_id", sa.BigInteger(), nullable=False),
        sa.Column("blocked_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["blocked_id"],
            ["users.id"],
            name=op.f("fk_blocks_blocked_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blocker_id"],
            ["users.id"],
            name=op.f("fk_blocks_blocker_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_blocks")),
    )
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blocks_blocked_id"), ["blocked_id"], unique=False)

    op.create_table(
        "dismissals",
        sa.Column("viewer_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["users.id"],
            name=op.f("fk_dismissals_candidate_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["viewer_id"],
            ["users.id"],
            name=op.f("fk_dismissals_viewer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("viewer_id", "candidate_id", name=op.f("pk_dismissals")),
    )
    with op.batch_alter_table("dismissals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dismissals_candidate_id"), ["candidate_id"], unique=False
        )

    op.create_table(
        "fof_candidates",
        sa.Column("viewer_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.BigInteger(), nullable=False),
        sa.Column("mutual_count", sa.Integer(), nullable=False),
        sa.Column("via1", sa.BigInteger(), nullable=True),
        sa.Column("via2", sa.BigInteger(), nullable=True),
        sa.Column("via3", sa.BigInteger(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["users.id"],
            name=op.f("fk_fof_candidates_candidate_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["viewer_id"],
            ["users.id"],
            name=op.f("fk_fof_candidates_viewer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("viewer_id", "candidate_id", name=op.f("pk_fof_candidates")),
    )
    with op.batch_alter_table("fof_candidates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fof_candidates_candidate_id"), ["candidate_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fof_candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fof_candidates_candidate_id"))

    op.drop_table("fof_candidates")
    with op.batch_alter_table("dismissals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dismissals_candidate_id"))

    op.drop_table("dismissals")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blocks_blocked_id"))

    op.drop_table("blocks")
