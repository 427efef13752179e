"""Requests to exercise a right that cannot be completed at once: tracked with a deadline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal

REQUEST = (
    "rights request (kind, status, dates, reason of a refusal)",
    "answer the member's request within 15 working days (PIPL art. 50)",
    "legal_obligation",
    "the account's life",
)


class RightsRequest(Base):
    __tablename__ = "rights_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=personal(*REQUEST),
    )
    kind: Mapped[str] = mapped_column(String(32), info=personal(*REQUEST))
    details: Mapped[str] = mapped_column(Text, info=personal(*REQUEST))
    status: Mapped[str] = mapped_column(String(16), info=NOT_PERSONAL)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*REQUEST))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)
    closed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, info=NOT_PERSONAL
    )
    refusal_reason: Mapped[str | None] = mapped_column(Text, nullable=True, info=personal(*REQUEST))
