"""partner subjects: a random key per partner for the pairwise identifiers it receives

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_partners = sa.table(
    "partners", sa.column("id", sa.String()), sa.column("subject_key", sa.LargeBinary())
)


def upgrade() -> None:
    # Added nullable, a fresh key given to each registered partner, then NOT NULL.
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_key", sa.LargeBinary(length=32), nullable=True))
    bind = op.get_bind()
    for (partner_id,) in bind.execute(sa.select(_partners.c.id)).all():
        bind.execute(
            _partners.update()
            .where(_partners.c.id == partner_id)
            .values(subject_key=secrets.token_bytes(32))
        )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.alter_column(
            "subject_key", existing_type=sa.LargeBinary(length=32), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("subject_key")
