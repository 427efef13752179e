"""users.id is the rowid on SQLite: a read by account id is one B-tree descent

Revision ID: 0009
Revises: 0008

SQLite makes a column the table's rowid only when it is declared ``INTEGER PRIMARY KEY``;
``BIGINT PRIMARY KEY`` kept a separate index beside the rowid, and every read by id walked
both. The table is rebuilt (copied; minutes at 10M members) with foreign keys off, which
env.py arranges on SQLite, so that dropping the old table cascades nowhere. PostgreSQL
keeps BIGINT: nothing to do there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _id_type(to: sa.types.TypeEngine[int], were: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("users", schema=None, recreate="always") as batch_op:
        batch_op.alter_column("id", existing_type=were, type_=to, existing_nullable=False)


def upgrade() -> None:
    _id_type(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _id_type(sa.BigInteger(), sa.Integer())
