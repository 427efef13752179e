"""Time as a dependency: services ask a Clock, tests hand them a FakeClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2019, 2, 9, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every datetime in mayknow is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
