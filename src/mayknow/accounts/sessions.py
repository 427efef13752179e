"""Sessions: opaque random tokens, stored only as their SHA-256, revocable, with two expiries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from mayknow.accounts.domain import new_token, token_hash
from mayknow.accounts.models import AuthSession, User
from mayknow.db.ops import affected
from mayknow.db.prepared import Prepared
from mayknow.db.uow import Queryable
from mayknow.shared.clock import as_utc

# last_seen_at is rewritten at most this often, so that reads stay reads.
TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the member, the reference audit events use, and their session."""

    user_id: int
    subject_ref: str
    session_hash: bytes
    expires_at: datetime
    needs_touch: bool = False


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime


def create(
    session: Session, user_id: int, channel: str, now: datetime, max_age: timedelta
) -> Issued:
    token = new_token()
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=user_id,
            channel=channel,
            created_at=now,
            last_seen_at=now,
            expires_at=now + max_age,
        )
    )
    return Issued(token, now + max_age)


_RESOLVE = Prepared(
    select(AuthSession.user_id, AuthSession.expires_at, AuthSession.last_seen_at, User.audit_ref)
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("digest"))
)


def resolve(db: Queryable, token: str, now: datetime, idle: timedelta) -> Principal | None:
    """The caller of a live session, in one statement (``UnitOfWork.lone_read`` suffices)."""
    digest = token_hash(token)
    row = _RESOLVE.one_or_none(db, digest=digest)
    if row is None:
        return None
    user_id, expires, seen, audit_ref = row
    expires_at, last_seen = as_utc(expires), as_utc(seen)
    if expires_at <= now or last_seen + idle <= now:
        return None
    return Principal(
        user_id, audit_ref, digest, expires_at, needs_touch=now - last_seen >= TOUCH_EVERY
    )


def touch(session: Session, digest: bytes, now: datetime) -> None:
    session.execute(
        update(AuthSession).where(AuthSession.token_hash == digest).values(last_seen_at=now)
    )


def revoke(session: Session, digest: bytes) -> int:
    return affected(session, delete(AuthSession).where(AuthSession.token_hash == digest))


def erase_for(session: Session, user_id: int) -> int:
    return affected(session, delete(AuthSession).where(AuthSession.user_id == user_id))


def purge(session: Session, now: datetime, idle: timedelta) -> int:
    return affected(
        session,
        delete(AuthSession).where(
            (AuthSession.expires_at <= now) | (AuthSession.last_seen_at <= now - idle)
        ),
    )


def listed(session: Session, user_id: int) -> list[dict[str, object]]:
    rows = session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.created_at)
    )
    return [
        {
            "id": r.token_hash[:8].hex(),
            "channel": r.channel,
            "created_at": as_utc(r.created_at).isoformat(),
            "last_seen_at": as_utc(r.last_seen_at).isoformat(),
            "expires_at": as_utc(r.expires_at).isoformat(),
        }
        for r in rows
    ]


def revoke_by_id(session: Session, user_id: int, session_id: str) -> int:
    """Sign one of the member's sessions out, named by the id ``listed`` shows."""
    rows = session.scalars(select(AuthSession.token_hash).where(AuthSession.user_id == user_id))
    for digest in rows.all():
        if digest[:8].hex() == session_id:
            return revoke(session, digest)
    return 0
