"""Retention: every kind of personal data declares how long it lives; this enforces it.

``mayknow purge`` runs it once; ``mayknow serve`` runs it periodically in each worker
(the work is idempotent). Each run that removes anything leaves an audit event with the
kinds and counts removed. The audit log's own retention comes last: its oldest events are
cut, and the checkpoint moved, before the event recording the run is appended, so that
event opens no gap and is the newest in the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mayknow.audit import service as audit
from mayknow.db.uow import UnitOfWork
from mayknow.shared.clock import Clock

# A purger removes, inside the given transaction, what has outlived its retention at ``now``.
Purger = Callable[[Session, datetime], Mapping[str, int]]


class RetentionService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        purgers: Sequence[Purger],
        audit_retention: timedelta,
    ) -> None:
        self.uow, self.clock, self.purgers = uow, clock, list(purgers)
        self.audit_retention = audit_retention

    def purge(self) -> dict[str, int]:
        now = self.clock.now()
        removed: dict[str, int] = {}
        with self.uow.write() as session:
            for purger in self.purgers:
                for kind, count in purger(session, now).items():
                    removed[kind] = removed.get(kind, 0) + count
            cut = audit.cut(session, now - self.audit_retention)
            removed["audit_events"] = cut.removed
            removed = {kind: count for kind, count in sorted(removed.items()) if count}
            if removed:
                checkpoint = {"audit_checkpoint": cut.base_id} if cut.removed else {}
                audit.record(
                    session,
                    at=now,
                    actor="retention",
                    action="retention_purge",
                    details={**removed, **checkpoint},
                )
        return removed
