"""Tables of the audit slice: the hash-chained event log and its head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mayknow.db.base import NOT_PERSONAL, Base, personal

GENESIS = bytes(32)  # the "previous hash" of the first event ever recorded

AUDIT = (
    "audit event",
    "prove what was done with personal data, and by whom",
    "legal_obligation",
    "3 years; unlinkable once the account is deleted",
    "operators",
)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False, info=NOT_PERSONAL
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=personal(*AUDIT))
    actor: Mapped[str] = mapped_column(String(64), info=personal(*AUDIT))
    action: Mapped[str] = mapped_column(String(64), info=personal(*AUDIT))
    subject: Mapped[str | None] = mapped_column(
        String(64), nullable=True, index=True, info=personal(*AUDIT)
    )
    details: Mapped[str] = mapped_column(Text, info=personal(*AUDIT))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32), info=NOT_PERSONAL)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), info=NOT_PERSONAL)


class AuditHead(Base):
    """One row: the newest event's id and hash, and the checkpoint where the chain starts.

    Appenders lock it, so the chain never forks. The checkpoint is the id and hash of the
    newest event removed by retention (0 and GENESIS while none has been): the chain's
    first remaining event follows it.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=NOT_PERSONAL)
    last_id: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary(32), info=NOT_PERSONAL)
    base_id: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    base_hash: Mapped[bytes] = mapped_column(LargeBinary(32), default=GENESIS, info=NOT_PERSONAL)
