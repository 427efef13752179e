"""Tables of the suggestions slice: precomputed friend-of-friend candidates, dismissals, blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal

FOF = (
    "friend-of-friend candidate (derived from mutual follows)",
    "suggest people you may know, with the mutual connections as the reason",
    "contract",
    "until the next batch run; erased with either account",
    "the viewer (candidate and up to three mutual connections)",
)


class FofCandidate(Base):
    """One precomputed candidate for one viewer; written only by the batch job.

    ``score`` is the Adamic-Adar sum in fixed point: sum over mutual connections w of
    round(1e9 / ln(deg(w))), so every engine ranks ties the same way.
    """

    __tablename__ = "fof_candidates"

    viewer_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*FOF),
    )
    candidate_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
        info=personal(*FOF),
    )
    score: Mapped[int] = mapped_column(BigInteger, info=personal(*FOF))
    mutual_count: Mapped[int] = mapped_column(Integer, info=personal(*FOF))
    via1: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(*FOF))
    via2: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(*FOF))
    via3: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(*FOF))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=NOT_PERSONAL)


CHOICE = (
    "suggestion choice (dismissed or blocked account)",
    "never suggest that account again; keep blocked accounts apart",
    "contract",
    "until undone or account deletion",
)


class Dismissal(Base):
    __tablename__ = "dismissals"

    viewer_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*CHOICE),
    )
    candidate_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
        info=personal(*CHOICE),
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*CHOICE))


class Block(Base):
    __tablename__ = "blocks"

    blocker_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(*CHOICE),
    )
    blocked_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
        info=personal(*CHOICE),
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*CHOICE))
