"""covering indexes for the per-request reads: fans, address-book holders, latest consent

Revision ID: 0010
Revises: 0009

Three reads run on every GET /v1/suggestions and found their rows through an index that
lacked the column they return, then fetched each row from the table: a member's fans
(follows by followee), the uploaders holding a member (contact_edges by contact) and the
latest consent choice (consent_events by member and purpose, returning `granted`). Each
index now carries that column, so the read is answered from the index alone (PostgreSQL:
an index-only scan once the table is vacuumed; SQLite: a covering index).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# table: (old index, its columns, new index, its columns)
CHANGES = {
    "follows": (
        "ix_follows_followee_id",
        ["followee_id"],
        "ix_follows_followee_follower",
        ["followee_id", "follower_id"],
    ),
    "contact_edges": (
        "ix_contact_edges_contact_id",
        ["contact_id"],
        "ix_contact_edges_contact_uploader",
        ["contact_id", "uploader_id"],
    ),
    "consent_events": (
        "ix_consent_events_user_purpose",
        ["user_id", "purpose", "id"],
        "ix_consent_events_user_purpose_granted",
        ["user_id", "purpose", "id", "granted"],
    ),
}


def upgrade() -> None:
    for table, (old, _, new, columns) in CHANGES.items():
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, (old, columns, new, _) in CHANGES.items():
        op.create_index(old, table, columns)
        op.drop_index(new, table_name=table)
