"""Rules of the rights slice that need no database. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar

ANSWER_WITHIN_WORKING_DAYS = 15  # PIPL art. 50 and the policy
CHINA = ZoneInfo("Asia/Shanghai")  # working days are counted on the calendar in China


class RequestKind(StrEnum):
    ACCESS = "access"
    CORRECTION = "correction"
    ERASURE = "erasure"
    EXPLANATION = "explanation"
    PORTABILITY = "portability"
    OBJECTION = "objection"
    DECEASED_RELATIVE = "deceased_relative"
    OTHER = "other"


def is_working_day(day: date) -> bool:
    """A working day in mainland China: the State Council's yearly notice decides public
    holidays and the weekend days worked in lieu (调休), as the chinesecalendar package
    records them. For a year it has no notice for yet, Monday to Friday: a deadline then
    falls no later than the law's."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def due_after(received: datetime, working_days: int = ANSWER_WITHIN_WORKING_DAYS) -> datetime:
    """The same time of day, ``working_days`` working days in China after ``received``."""
    local = received.astimezone(CHINA)
    day, left = local.date(), working_days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return datetime.combine(day, local.timetz()).astimezone(UTC)
