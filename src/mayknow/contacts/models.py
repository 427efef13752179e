"""Tables of the contacts slice.

Only matches are stored: an edge (uploader -> account) exists while the uploader's
``contacts_upload`` and the account's ``discoverable_by_phone`` both hold. A number that
matches no discoverable account is never written anywhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal

EDGE = (
    "address-book match (who has whose number)",
    "show people you know; suggest you to them where both agreed",
    "consent:contacts_upload",
    "while both consents hold; until removed by a sync or erased",
    "the uploader; the contact where the uploader agreed to be suggested",
)


class ContactEdge(Base):
    __tablename__ = "contact_edges"
    # Uploaders by contact, answered from the index alone (the primary key serves uploaders).
    __table_args__ = (Index("ix_contact_edges_contact_uploader", "contact_id", "uploader_id"),)

    uploader_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*EDGE),
    )
    contact_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*EDGE),
    )
    source: Mapped[str] = mapped_column(String(8), info=NOT_PERSONAL)  # "sync" or "private"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*EDGE))


class DiscoveryQuota(Base):
    """How many new numbers a member may still look up, and the digest of their set token.

    Modelled on Signal's contact discovery: nothing here is per number.
    """

    __tablename__ = "discovery_quotas"

    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(
            "discovery quota", "limit address-book enumeration", "contract", "the account's life"
        ),
    )
    permits: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    refilled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)
    token_digest: Mapped[bytes | None] = mapped_column(
        LargeBinary(32),
        nullable=True,
        info=personal(
            "digest of a client-held token over the last synced set",
            "charge only new numbers against the quota",
            "contract",
            "until the next sync",
            "nobody (a keyed digest of a client secret)",
        ),
    )


DISCOVERABLE = (
    "private-discovery tag (OPRF output of the member's number)",
    "let address books holding the number find the member without revealing any number",
    "consent:discoverable_by_phone",
    "while discoverable_by_phone holds",
    "nobody (a keyed function of the number)",
)


class DiscoveryTag(Base):
    __tablename__ = "discovery_tags"

    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*DISCOVERABLE),
    )
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, info=personal(*DISCOVERABLE))


class DiscoveryChange(Base):
    """The filter's change log, for incremental updates.

    An addition carries the new member's tag8. A removal is a bare tombstone that only
    moves the version on: the member's earlier addition is deleted with it, so the log
    keeps nothing of someone who left. Stale filters on clients may still hold the tag8;
    a report of it finds no member and forms no edge.
    """

    __tablename__ = "discovery_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    tag8: Mapped[bytes | None] = mapped_column(
        LargeBinary(8), nullable=True, index=True, info=personal(*DISCOVERABLE)
    )
    added: Mapped[bool] = mapped_column(info=NOT_PERSONAL)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)


DIRECTORY_CHANGE = (
    "account whose findability changed (id only)",
    "keep every server process's in-memory matching directory exact",
    "consent:discoverable_by_phone",
    "1 day; at once when the account is deleted",
    "nobody",
)


class DirectoryChange(Base):
    """The matching directory's log: who may have become findable or stopped being so.

    Written in the transaction of the change (a grant or withdrawal of
    discoverable_by_phone, a new number), under the lock of ``directory_head``, so the
    order of ``seq`` is the order of the commits. Bare account ids: the new state is read
    from the store. The rows of a deleted account go with it."""

    __tablename__ = "directory_changes"

    seq: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, info=NOT_PERSONAL
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=personal(*DIRECTORY_CHANGE),
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)


class DirectoryHead(Base):
    """One row: the newest ``seq`` given out, and the newest removed by retention."""

    __tablename__ = "directory_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    seq: Mapped[int] = mapped_column(BigInteger, info=NOT_PERSONAL)
    purged_through: Mapped[int] = mapped_column(BigInteger, info=NOT_PERSONAL)
