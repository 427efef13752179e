"""Tables of the partners slice: partner apps, per-partner grants, codes, tokens and
the egress ledger of every provision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal

SHARING = "consent:share_with_partner_apps"


def _user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


def _partner_fk() -> ForeignKey:
    return ForeignKey("partners.id", ondelete="CASCADE")


class Partner(Base):
    """A registered partner app: a public client that must use PKCE (S256)."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)
    redirect_uris: Mapped[str] = mapped_column(Text, info=NOT_PERSONAL)  # a JSON list
    categories: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)  # space-separated
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)
    # Random, per partner: keys the pairwise identifiers it receives (domain.pairwise_subject)
    subject_key: Mapped[bytes] = mapped_column(LargeBinary(32), info=NOT_PERSONAL)


GRANT = (
    "grant to a named partner app (partner, categories, dates)",
    "provide only what the member allowed to that partner (H9)",
    SHARING,
    "the account's life",
)


class PartnerGrant(Base):
    """The per-recipient consent. A change revokes the row and adds a new one."""

    __tablename__ = "partner_grants"
    __table_args__ = (Index("ix_partner_grants_user_partner", "user_id", "partner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    user_id: Mapped[int] = mapped_column(BigInteger, _user_fk(), info=personal(*GRANT))
    partner_id: Mapped[str] = mapped_column(
        String(64), _partner_fk(), index=True, info=personal(*GRANT)
    )
    categories: Mapped[str] = mapped_column(String(200), info=personal(*GRANT))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*GRANT))
    revoked_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, info=personal(*GRANT)
    )


CODE = (
    "authorization code for a partner login (hash, partner, scope, PKCE challenge)",
    "log the member in to a partner app they chose",
    "contract",
    "60 seconds, kept spent until the account ends or a purge",
    "nobody (a digest)",
)


class PartnerCode(Base):
    """A single-use code, bound to partner, redirect URI, PKCE challenge, member and scope."""

    __tablename__ = "partner_codes"

    code_hash: Mapped[bytes] = mapped_column(
        LargeBinary(32), primary_key=True, info=personal(*CODE)
    )
    partner_id: Mapped[str] = mapped_column(
        String(64), _partner_fk(), index=True, info=personal(*CODE)
    )
    user_id: Mapped[int] = mapped_column(BigInteger, _user_fk(), index=True, info=personal(*CODE))
    redirect_uri: Mapped[str] = mapped_column(Text, info=NOT_PERSONAL)
    scope: Mapped[str] = mapped_column(String(200), info=personal(*CODE))
    code_challenge: Mapped[str] = mapped_column(String(128), info=NOT_PERSONAL)
    code_challenge_method: Mapped[str] = mapped_column(String(8), info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*CODE))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)
    used_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, info=NOT_PERSONAL
    )


TOKEN = (
    "partner access token (hash, partner, scope, times)",
    "let a partner app the member logged in to fetch what it may",
    "contract",
    "1 hour, or until revoked",
    "nobody (a digest)",
)


class PartnerToken(Base):
    """A bearer token held by a partner; revoking deletes the row."""

    __tablename__ = "partner_tokens"

    token_hash: Mapped[bytes] = mapped_column(
        LargeBinary(32), primary_key=True, info=personal(*TOKEN)
    )
    partner_id: Mapped[str] = mapped_column(
        String(64), _partner_fk(), index=True, info=personal(*TOKEN)
    )
    user_id: Mapped[int] = mapped_column(BigInteger, _user_fk(), index=True, info=personal(*TOKEN))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True, info=NOT_PERSONAL)
    scope: Mapped[str] = mapped_column(String(200), info=personal(*TOKEN))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*TOKEN))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)


EGRESS = (
    "record of data provided to a partner app (partner, categories, count, time)",
    "show the member what was provided to whom (H9)",
    "contract",
    "the account's life",
)


class EgressRecord(Base):
    """One provision to a partner, written in the transaction that provides it."""

    __tablename__ = "egress_ledger"
    __table_args__ = (Index("ix_egress_ledger_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    user_id: Mapped[int] = mapped_column(BigInteger, _user_fk(), info=personal(*EGRESS))
    # No cascade: a partner cannot be removed while the record of what it received stands.
    partner_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("partners.id"), index=True, info=personal(*EGRESS)
    )
    categories: Mapped[str] = mapped_column(String(200), info=personal(*EGRESS))
    count: Mapped[int] = mapped_column(Integer, info=personal(*EGRESS))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*EGRESS))
