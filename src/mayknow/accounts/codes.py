"""One-time login codes: stored hashed, short-lived, single use, locked after wrong tries."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mayknow.accounts.models import LoginCode
from mayknow.db.ops import affected
from mayknow.identity.keyring import KeyRing
from mayknow.shared.clock import as_utc
from mayknow.shared.errors import InvalidInput, MayknowError, RateLimited


class Outcome(Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"
    MISSING = "missing"


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    row_id: int | None = None

    def error(self) -> MayknowError:
        if self.outcome is Outcome.LOCKED:
            return RateLimited(
                "code_locked", "Too many wrong codes: request a new code.", retry_after=60
            )
        if self.outcome is Outcome.EXPIRED:
            return InvalidInput(
                "code_expired", "The code has expired: request a new one.", field="code"
            )
        return InvalidInput("invalid_code", "The code is not right.", field="code")


def code_hash(keys: KeyRing, pseudonym: bytes, code: str) -> bytes:
    return keys.digest("login-code", pseudonym + code.encode())


def _matches(keys: KeyRing, row: LoginCode, code: str) -> bool:
    """Under any key version: a code sent just before a rotation still works."""
    candidates = keys.digests("login-code", row.phone_pseudonym + code.encode())
    return any(hmac.compare_digest(row.code_hash, c) for c in candidates)


def store(
    session: Session, keys: KeyRing, pseudonym: bytes, code: str, now: datetime, ttl: timedelta
) -> None:
    session.add(
        LoginCode(
            phone_pseudonym=pseudonym,
            code_hash=code_hash(keys, pseudonym, code),
            created_at=now,
            expires_at=now + ttl,
            attempts=0,
        )
    )


def check(
    session: Session,
    keys: KeyRing,
    pseudonyms: list[bytes],
    code: str,
    now: datetime,
    max_attempts: int,
) -> Check:
    """Check ``code`` against the newest code sent to the number; count a wrong try."""
    row = session.scalar(
        select(LoginCode)
        .where(LoginCode.phone_pseudonym.in_(pseudonyms))
        .order_by(LoginCode.created_at.desc(), LoginCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None or row.consumed_at is not None:
        return Check(Outcome.MISSING)
    if row.attempts >= max_attempts:
        return Check(Outcome.LOCKED)
    if as_utc(row.expires_at) <= now:
        return Check(Outcome.EXPIRED)
    if not _matches(keys, row, code):
        row.attempts += 1
        return Check(Outcome.LOCKED if row.attempts >= max_attempts else Outcome.WRONG)
    return Check(Outcome.ACCEPTED, row.id)


def consume(session: Session, row_id: int, now: datetime) -> None:
    row = session.get(LoginCode, row_id)
    assert row is not None
    row.consumed_at = now


def purge(session: Session, before: datetime) -> int:
    return affected(session, delete(LoginCode).where(LoginCode.created_at < before))


def erase_for(session: Session, pseudonym: bytes) -> int:
    return affected(session, delete(LoginCode).where(LoginCode.phone_pseudonym == pseudonym))
