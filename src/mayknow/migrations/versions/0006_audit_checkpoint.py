"""audit checkpoint: where the chain starts once retention has removed its oldest events

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GENESIS = bytes(32)
_head = sa.table(
    "audit_head", sa.column("base_id", sa.Integer()), sa.column("base_hash", sa.LargeBinary())
)


def upgrade() -> None:
    # Added nullable, filled with the genesis checkpoint (nothing removed yet), then
    # made NOT NULL: one way that needs no dialect's spelling of a bytes default.
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("base_hash", sa.LargeBinary(length=32), nullable=True))
    op.execute(_head.update().values(base_id=0, base_hash=GENESIS))
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.alter_column("base_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("base_hash", existing_type=sa.LargeBinary(length=32), nullable=False)


def downgrade() -> None:
    # Once retention has removed events, a chain without a checkpoint no longer verifies.
    moved = op.get_bind().scalar(sa.select(sa.func.max(_head.c.base_id)))
    if moved:
        raise RuntimeError(
            f"retention has removed audit events up to event {moved}; "
            "without the checkpoint the audit log would no longer verify"
        )
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("base_hash")
        batch_op.drop_column("base_id")
