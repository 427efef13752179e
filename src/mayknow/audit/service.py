"""The audit log: append-only, each event carrying the hash of the one before.

``record`` is called inside the transaction of the change it records. ``verify`` walks
the chain and names the first event that was edited, removed or reordered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mayknow.audit.models import AuditEvent, AuditHead
from mayknow.shared.clock import as_utc

GENESIS = bytes(32)
HEAD_ID = 1


def _digest(
    prev: bytes,
    event_id: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    details: str,
) -> bytes:
    body = json.dumps(
        [event_id, as_utc(at).isoformat(timespec="microseconds"), actor, action, subject, details],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(prev + body.encode()).digest()


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one event. ``details`` must hold no phone number, name, city or body."""
    head = session.get(AuditHead, HEAD_ID, with_for_update=True)
    if head is None:  # the migration creates it; a bare metadata.create_all may not
        head = AuditHead(id=HEAD_ID, last_id=0, last_hash=GENESIS)
        session.add(head)
    text = json.dumps(dict(details or {}), sort_keys=True, ensure_ascii=False)
    event_id = head.last_id + 1
    digest = _digest(head.last_hash, event_id, at, actor, action, subject, text)
    session.add(
        AuditEvent(
            id=event_id,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=text,
            prev_hash=head.last_hash,
            hash=digest,
        )
    )
    head.last_id, head.last_hash = event_id, digest
    session.flush()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    problem: str = ""


def _first_break(events: Iterable[AuditEvent]) -> tuple[bytes, int, str]:
    """Walk the chain; return the last good hash, the count of good events, and a problem."""
    prev, checked = GENESIS, 0
    for event in events:
        expected_id = checked + 1
        if event.id != expected_id:
            return prev, checked, f"event {expected_id} is missing"
        if event.prev_hash != prev:
            return prev, checked, f"event {event.id} does not follow event {event.id - 1}"
        digest = _digest(
            prev, event.id, event.at, event.actor, event.action, event.subject, event.details
        )
        if digest != event.hash:
            return prev, checked, f"event {event.id} was altered"
        prev, checked = digest, checked + 1
    return prev, checked, ""


def verify(session: Session) -> Verdict:
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    with closing(session.scalars(query)) as events:
        last_hash, checked, problem = _first_break(events)
    if problem:
        return Verdict(False, checked, problem)
    head = session.get(AuditHead, HEAD_ID)
    if head is not None and (head.last_id != checked or head.last_hash != last_hash):
        return Verdict(False, checked, f"the newest events after {checked} were removed")
    return Verdict(True, checked)


def events_about(session: Session, subject: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.subject == subject).order_by(AuditEvent.id)
    )
    return [
        {"at": as_utc(r.at).isoformat(), "action": r.action, "details": json.loads(r.details)}
        for r in rows
    ]
