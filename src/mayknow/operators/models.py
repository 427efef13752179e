"""Operator accounts (staff who may run the recall query) and the short-lived security log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal


class Operator(Base):
    __tablename__ = "operators"

    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(
            "operator role",
            "let staff run audited look-ups",
            "contract",
            "while the person is staff",
            "operators",
        ),
    )
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)


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
