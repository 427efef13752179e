"""Tables of the consent slice: the append-only ledger and the privacy settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal

LEDGER = (
    "consent record",
    "prove and apply the member's choices",
    "legal_obligation",
    "the account's life",
)


class ConsentEvent(Base):
    """One grant or withdrawal. Rows are only ever added; the state is derived from them."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index("ix_consent_events_user_purpose_granted", "user_id", "purpose", "id", "granted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), info=personal(*LEDGER)
    )
    purpose: Mapped[str] = mapped_column(String(40), info=personal(*LEDGER))
    granted: Mapped[bool] = mapped_column(Boolean, info=personal(*LEDGER))
    policy_version: Mapped[str] = mapped_column(String(32), info=personal(*LEDGER))
    channel: Mapped[str] = mapped_column(String(16), info=personal(*LEDGER))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*LEDGER))


SETTING = ("privacy setting", "apply the member's choices", "contract", "the account's life")


class PrivacySettings(Base):
    __tablename__ = "privacy_settings"

    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*SETTING),
    )
    suggestions_enabled: Mapped[bool] = mapped_column(Boolean, info=personal(*SETTING))
    recommend_me_to_others: Mapped[bool] = mapped_column(Boolean, info=personal(*SETTING))
    show_city_on_profile: Mapped[bool] = mapped_column(Boolean, info=personal(*SETTING))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)
