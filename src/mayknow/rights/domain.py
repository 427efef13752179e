"""Rules of the rights slice that need no database. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

ANSWER_WITHIN_WORKING_DAYS = 15  # PIPL art. 50 and the policy


class RequestKind(StrEnum):
    ACCESS = "access"
    CORRECTION = "correction"
    ERASURE = "erasure"
    EXPLANATION = "explanation"
    PORTABILITY = "portability"
    OBJECTION = "objection"
    DECEASED_RELATIVE = "deceased_relative"
    OTHER = "other"


def due_after(received: datetime, working_days: int = ANSWER_WITHIN_WORKING_DAYS) -> datetime:
    """``working_days`` Monday-to-Friday days after ``received`` (public holidays not counted)."""
    moment, left = received, working_days
    while left:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment
