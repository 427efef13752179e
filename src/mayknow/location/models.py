"""The member's city: derived only under ``location_city``, with when, until when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal

CITY = (
    "city (derived from the network address)",
    "show your city on your profile when you turn that on",
    "consent:location_city",
    "30 days; erased at once when location_city is withdrawn",
    "the user; others only with show_city_on_profile",
)


class City(Base):
    __tablename__ = "cities"

    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*CITY),
    )
    name_zh: Mapped[str] = mapped_column(String(64), info=personal(*CITY))
    name_en: Mapped[str | None] = mapped_column(String(64), nullable=True, info=personal(*CITY))
    province_zh: Mapped[str] = mapped_column(String(64), info=personal(*CITY))
    derived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*CITY))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)
