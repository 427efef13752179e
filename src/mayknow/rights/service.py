"""The member's rights over their data: a copy of all of it, and erasure of all of it.

Each slice that holds personal data is a DataHolder; the bootstrap hands the list in.
Erasure runs every holder in one transaction and answers with a receipt of kinds and
counts, never values; the audit log keeps the same receipt under a reference that no
longer links to anyone once the account row is gone (docs/adr/0002).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from mayknow.accounts.sessions import Principal
from mayknow.audit import service as audit
from mayknow.db.uow import UnitOfWork
from mayknow.rights.html import export_page
from mayknow.shared.clock import Clock


class DataHolder(Protocol):
    def export_in(self, session: Session, user_id: int) -> dict[str, object]: ...

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]: ...


class RightsService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, holders: Sequence[DataHolder], policy_version: str
    ) -> None:
        """``holders`` in erasure order: the one that removes the account row comes last."""
        self.uow, self.clock, self.holders = uow, clock, list(holders)
        self.policy_version = policy_version

    def export(self, principal: Principal) -> dict[str, object]:
        now = self.clock.now()
        document: dict[str, object] = {
            "format": "mayknow-export/1",
            "generated_at": now.isoformat(),
            "policy_version": self.policy_version,
        }
        with self.uow.read() as session:
            for holder in reversed(self.holders):
                document.update(holder.export_in(session, principal.user_id))
            document["audit_events"] = audit.events_about(session, principal.subject_ref)
        return document

    def export_html(self, principal: Principal, language: str = "zh-CN") -> str:
        """The same export as a page a person can read."""
        return export_page(self.export(principal), language)

    def delete_account(self, principal: Principal) -> dict[str, object]:
        now = self.clock.now()
        erased: dict[str, int] = {}
        with self.uow.write() as session:
            for holder in self.holders:
                for kind, count in holder.erase_in(session, principal.user_id).items():
                    erased[kind] = erased.get(kind, 0) + count
            receipt: dict[str, object] = {
                "receipt_id": secrets.token_hex(8),
                "at": now.isoformat(),
                "erased": {k: v for k, v in sorted(erased.items()) if v},
            }
            audit.record(
                session,
                at=now,
                actor=principal.subject_ref,
                action="account_deleted",
                subject=principal.subject_ref,
                details={"receipt_id": receipt["receipt_id"], **erased},
            )
        return receipt
