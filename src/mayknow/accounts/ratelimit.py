"""Fixed-window counters in the store, shared by every worker, keyed by keyed digests."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from mayknow.accounts.models import RateCounter
from mayknow.db.ops import affected, insert_for
from mayknow.shared.errors import RateLimited


def _window_start(now: datetime, window: timedelta) -> datetime:
    since = now - datetime(2000, 1, 1, tzinfo=now.tzinfo)
    return now - (since % window)


def hit(
    session: Session,
    key: bytes,
    *,
    now: datetime,
    window: timedelta,
    limit: int,
    code: str,
    message: str,
    cost: int = 1,
) -> None:
    """Count ``cost`` events under ``key``; raise RateLimited when that passes ``limit``."""
    start = _window_start(now, window)
    statement = (
        insert_for(session, RateCounter)
        .values(key=key, window_start=start, count=cost)
        .on_conflict_do_update(
            index_elements=[RateCounter.key, RateCounter.window_start],
            set_={"count": RateCounter.count + cost},
        )
        .returning(RateCounter.count)
    )
    count = session.execute(statement).scalar_one()
    if count > limit:
        retry_after = math.ceil((start + window - now).total_seconds())
        raise RateLimited(code, message, retry_after=retry_after)


def purge(session: Session, before: datetime) -> int:
    return affected(session, delete(RateCounter).where(RateCounter.window_start < before))


def erase_key(session: Session, key: bytes) -> int:
    return affected(session, delete(RateCounter).where(RateCounter.key == key))
