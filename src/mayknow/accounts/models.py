"""Tables of the accounts slice: members, their sessions, one-time codes, rate counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal

ACCOUNT_LIFE = "the account's life"


class User(Base):
    __tablename__ = "users"

    # On SQLite the id is the table's rowid ("INTEGER PRIMARY KEY", 64 bits as BIGINT is):
    # a read by id is one B-tree descent, not one in an index and another in the table.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
        info=personal("account id", "identify the member", "contract", ACCOUNT_LIFE, "everyone"),
    )
    nickname: Mapped[str] = mapped_column(
        String(30),
        info=personal(
            "nickname", "show the member to others", "contract", ACCOUNT_LIFE, "everyone"
        ),
    )
    phone_pseudonym: Mapped[bytes] = mapped_column(
        LargeBinary(32),
        unique=True,
        info=personal(
            "phone number (keyed pseudonym)",
            "log in; match address books",
            "contract",
            ACCOUNT_LIFE,
            "nobody (a keyed digest)",
        ),
    )
    phone_key_version: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    phone_ciphertext: Mapped[bytes] = mapped_column(
        LargeBinary,
        info=personal(
            "phone number (encrypted)", "send one-time codes; show masked", "contract", ACCOUNT_LIFE
        ),
    )
    audit_ref: Mapped[str] = mapped_column(
        String(32),
        unique=True,
        info=personal(
            "audit reference",
            "link audit events to the account while it exists",
            "legal_obligation",
            ACCOUNT_LIFE,
            "operators",
        ),
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        info=personal("sign-up time", "run the account", "contract", ACCOUNT_LIFE),
    )


class AuthSession(Base):
    __tablename__ = "sessions"

    token_hash: Mapped[bytes] = mapped_column(
        LargeBinary(32),
        primary_key=True,
        info=personal(
            "session token (hash)",
            "keep the member signed in",
            "contract",
            "until logout, idle expiry or 30 days",
            "nobody (a digest)",
        ),
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=personal(
            "account id",
            "keep the member signed in",
            "contract",
            "until logout, idle expiry or 30 days",
        ),
    )
    channel: Mapped[str] = mapped_column(String(16), info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        info=personal(
            "sign-in time",
            "show active sessions",
            "contract",
            "until logout, idle expiry or 30 days",
        ),
    )
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        info=personal(
            "last activity (to the nearest minutes)",
            "end idle sessions",
            "contract",
            "until logout, idle expiry or 30 days",
        ),
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)


class LoginCode(Base):
    __tablename__ = "login_codes"
    __table_args__ = (Index("ix_login_codes_pseudonym_created", "phone_pseudonym", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    phone_pseudonym: Mapped[bytes] = mapped_column(
        LargeBinary(32),
        info=personal(
            "phone number (keyed pseudonym)",
            "check a one-time code",
            "contract",
            "24 hours",
            "nobody (a keyed digest)",
        ),
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)
    attempts: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    consumed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, info=NOT_PERSONAL
    )


class RateCounter(Base):
    """Fixed-window counters keyed by a keyed digest of what is limited (number, address)."""

    __tablename__ = "rate_counters"

    key: Mapped[bytes] = mapped_column(
        LargeBinary(32),
        primary_key=True,
        info=personal(
            "phone number or network address (keyed digest)",
            "limit abuse",
            "contract",
            "24 hours",
            "nobody (a keyed digest)",
        ),
    )
    window_start: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, info=NOT_PERSONAL
    )
    count: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)


SECURITY = (
    "network address at sign-up and login",
    "detect and stop abuse (account takeover, mass registration)",
    "legal_obligation",
    "7 days",
    "operators",
)


class SecurityEvent(Base):
    """The only place a raw client address is kept beyond its request; purged after 7 days."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    user_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
        info=personal(*SECURITY),
    )
    kind: Mapped[str] = mapped_column(String(16), info=personal(*SECURITY))
    address: Mapped[str] = mapped_column(String(64), info=personal(*SECURITY))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), index=True, info=personal(*SECURITY)
    )
