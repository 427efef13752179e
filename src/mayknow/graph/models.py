"""Tables of the graph slice: who follows whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import Base, personal

FOLLOW = (
    "follow relation",
    "run the follow graph and suggestions",
    "contract",
    "until unfollow or account deletion",
    "the two members",
)


class Follow(Base):
    __tablename__ = "follows"
    # Fans by followee, answered from the index alone (the primary key serves followees).
    __table_args__ = (Index("ix_follows_followee_follower", "followee_id", "follower_id"),)

    follower_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*FOLLOW),
    )
    followee_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*FOLLOW),
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*FOLLOW))
