"""partner apps: partners, per-partner grants, codes, tokens, the egress ledger

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
    )
    op.create_table(
        "egress_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_egress_ledger_partner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_egress_ledger_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_egress_ledger")),
    )
    with op.batch_alter_table("egress_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_egress_ledger_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index("ix_egress_ledger_user_id_id", ["user_id", "id"], unique=False)

    op.create_table(
        "partner_codes",
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_codes_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_partner_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_partner_codes")),
    )
    with op.batch_alter_table("partner_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_codes_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_partner_codes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "partner_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_grants_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_partner_grants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_grants")),
    )
    with op.batch_alter_table("partner_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_grants_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(
            "ix_partner_grants_user_partner", ["user_id", "partner_id"], unique=False
        )

    op.create_table(
        "partner_tokens",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_tokens_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_partner_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_partner_tokens")),
    )
    with op.batch_alter_table("partner_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_tokens_code_hash"), ["code_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partner_tokens_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_partner_tokens_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_partner_tokens_partner_id"))
        batch_op.drop_index(batch_op.f("ix_partner_tokens_code_hash"))

    op.drop_table("partner_tokens")
    with op.batch_alter_table("partner_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_partner_grants_user_partner")
        batch_op.drop_index(batch_op.f("ix_partner_grants_partner_id"))

    op.drop_table("partner_grants")
    with op.batch_alter_table("partner_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_codes_user_id"))
        batch_op.drop_index(batch_op.f("ix_partner_codes_partner_id"))

    op.drop_table("partner_codes")
    with op.batch_alter_table("egress_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_egress_ledger_user_id_id")
        batch_op.drop_index(batch_op.f("ix_egress_ledger_partner_id"))

    op.drop_table("egress_ledger")
    op.drop_table("partners")
