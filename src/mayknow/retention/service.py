"""Retention: every kind of personal data declares how long it lives; this enforces it.

``mayknow purge`` runs it once; ``mayknow serve`` runs it periodically in each worker
(the work is idempotent). Each run that removes anything leaves an audit event with the
kinds and counts removed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from mayknow.audit import service as audit
from mayknow.db.uow import UnitOfWork
from mayknow.shared.clock import Clock

# A purger removes, inside the given transaction, what has outlived its retention at ``now``.
Purger = Callable[[Session, datetime], Mapping[str, int]]


class RetentionService:
    def __init__(self, uow: UnitOfWork, clock: Clock, purgers: Sequence[Purger]) -> None:
        self.uow, self.clock, self.purgers = uow, clock, list(purgers)

    def purge(self) -> dict[str, int]:
        now = self.clock.now()
        removed: dict[str, int] = {}
        with self.uow.write() as session:
            for purger in self.purgers:
                for kind, count in purger(session, now).items():
                    removed[kind] = removed.get(kind, 0) + count
            removed = {kind: count for kind, count in sorted(removed.items()) if count}
            if removed:
                audit.record(
                    session, at=now, actor="retention", action="retention_purge", details=removed
                )
        return removed
