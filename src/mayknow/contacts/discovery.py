"""Private discovery, server side: tags of discoverable members and the filter's change log.

A member's tag is the first 32 bytes of the RFC 9497 OPRF output of their number under the
server's OPRF key; its first 8 bytes (tag8) key the downloadable cuckoo filter. The server
evaluates blinded elements without learning the numbers behind them, and the client
reports only outputs that the filter says belong to a member.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mayknow.contacts.models import DiscoveryChange, DiscoveryTag
from mayknow.db.ops import affected, insert_for
from mayknow.identity import oprf
from mayknow.identity.keyring import KeyRing

TAG_BYTES = 32
TAG8_BYTES = 8


def tag_of(keys: KeyRing, e164: str) -> bytes:
    return oprf.evaluate(keys.oprf_key(), e164.encode())[:TAG_BYTES]


def add_tag(session: Session, keys: KeyRing, user_id: int, e164: str, now: datetime) -> None:
    tag = tag_of(keys, e164)
    if session.get(DiscoveryTag, user_id) is not None:
        return
    session.execute(insert_for(session, DiscoveryTag).values(user_id=user_id, tag=tag))
    session.add(DiscoveryChange(tag8=tag[:TAG8_BYTES], added=True, at=now))


def remove_tag(session: Session, user_id: int, now: datetime) -> int:
    row = session.get(DiscoveryTag, user_id)
    if row is None:
        return 0
    session.execute(delete(DiscoveryChange).where(DiscoveryChange.tag8 == row.tag[:TAG8_BYTES]))
    session.add(DiscoveryChange(tag8=None, added=False, at=now))
    session.delete(row)
    session.flush()
    return 1


def version(session: Session) -> int:
    return int(session.scalar(select(func.max(DiscoveryChange.seq))) or 0)


def all_tag8(session: Session) -> Iterator[bytes]:
    for tag in session.scalars(select(DiscoveryTag.tag).execution_options(yield_per=10_000)):
        yield tag[:TAG8_BYTES]


@dataclass(frozen=True)
class Delta:
    since: int
    version: int
    added: list[bytes]


def changes_since(session: Session, since: int) -> Delta | None:
    """Tags added after ``since``, or None when the log no longer reaches back that far."""
    oldest = session.scalar(select(func.min(DiscoveryChange.seq)))
    if oldest is not None and since < oldest - 1:
        return None
    added = session.scalars(
        select(DiscoveryChange.tag8)
        .where(DiscoveryChange.seq > since, DiscoveryChange.tag8.is_not(None))
        .order_by(DiscoveryChange.seq)
    ).all()
    return Delta(since, max(since, version(session)), [t for t in added if t is not None])


def purge_changes(session: Session, before: datetime) -> int:
    """Forget old log entries; clients older than that download the whole filter again."""
    keep_from = session.scalar(select(func.max(DiscoveryChange.seq)))
    statement = delete(DiscoveryChange).where(DiscoveryChange.at < before)
    if keep_from is not None:  # the newest entry stays, so the version never goes back
        statement = statement.where(DiscoveryChange.seq < keep_from)
    return affected(session, statement)
