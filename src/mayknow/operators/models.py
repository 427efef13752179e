"""Operator accounts: staff who may run the audited recall query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey
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
