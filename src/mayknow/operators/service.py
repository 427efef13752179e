"""Operators: staff accounts that may run the audited recall query (the "熟人召回" back office).

Every call needs a stated reason and writes an audit event in the same transaction;
answers say which sources connect two accounts and since when, never a phone number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mayknow.accounts.models import User
from mayknow.accounts.service import AccountService
from mayknow.accounts.sessions import Principal
from mayknow.audit import service as audit
from mayknow.audit.models import AuditEvent
from mayknow.consent.domain import Purpose, Setting
from mayknow.consent.service import ConsentService
from mayknow.contacts.models import ContactEdge
from mayknow.db.ops import affected
from mayknow.db.uow import UnitOfWork
from mayknow.graph.models import Follow
from mayknow.operators.models import Operator
from mayknow.rights.requests import RequestService
from mayknow.shared.clock import Clock, as_utc
from mayknow.shared.errors import Forbidden, InvalidInput, NotFound
from mayknow.suggestions.models import Block, Dismissal, FofCandidate
from mayknow.suggestions.service import SuggestionService

REASON_MIN, REASON_MAX = 10, 500


class OperatorService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        accounts: AccountService,
        consent: ConsentService,
        suggestions: SuggestionService,
        requests: RequestService,
    ) -> None:
        self.uow, self.clock = uow, clock
        self.accounts, self.consent, self.suggestions = accounts, consent, suggestions
        self.requests = requests

    # -- who is an operator ----------------------------------------------------------
    def add(self, user_id: int) -> None:
        with self.uow.write() as session:
            user = self.accounts.get(session, user_id)
            if session.get(Operator, user_id) is None:
                session.add(Operator(user_id=user_id, added_at=self.clock.now()))
                audit.record(
                    session,
                    at=self.clock.now(),
                    actor="cli",
                    action="operator_added",
                    subject=user.audit_ref,
                )

    def remove(self, user_id: int) -> bool:
        with self.uow.write() as session:
            user = self.accounts.get(session, user_id)
            gone = affected(session, delete(Operator).where(Operator.user_id == user_id)) > 0
            if gone:
                audit.record(
                    session,
                    at=self.clock.now(),
                    actor="cli",
                    action="operator_removed",
                    subject=user.audit_ref,
                )
            return gone

    def is_operator(self, user_id: int) -> bool:
        with self.uow.read() as session:
            return session.get(Operator, user_id) is not None

    def _require(self, session: Session, caller: Principal, reason: str | None) -> str:
        if session.get(Operator, caller.user_id) is None:
            raise Forbidden("not_an_operator", "Only operator accounts may do this.")
        stated = (reason or "").strip()
        if not REASON_MIN <= len(stated) <= REASON_MAX:
            raise InvalidInput(
                "reason_required",
                f"State why you need this, in {REASON_MIN} to {REASON_MAX} characters.",
                field="reason",
            )
        return stated

    # -- the recall query ------------------------------------------------------------
    def recall(
        self, caller: Principal, viewer: int, candidate: int, reason: str | None
    ) -> dict[str, Any]:
        """Why ``candidate`` is, or would be, suggested to ``viewer``; audited."""
        with self.uow.write() as session:
            stated = self._require(session, caller, reason)
            users = {
                u.id: u
                for u in session.scalars(select(User).where(User.id.in_([viewer, candidate])))
            }
            if viewer not in users or candidate not in users:
                raise NotFound("user_not_found", "There is no such account.")
            audit.record(
                session,
                at=self.clock.now(),
                actor=caller.subject_ref,
                action="operator_recall",
                subject=users[viewer].audit_ref,
                details={"candidate": users[candidate].audit_ref, "reason": stated},
            )
            shown = {c.user_id: c for c in self.suggestions.ranked_in(session, viewer)}
            return {
                "viewer": _person(users[viewer]),
                "candidate": _person(users[candidate]),
                "suggested_now": candidate in shown,
                "reasons_shown": [r.kind.value for r in shown[candidate].reasons]
                if candidate in shown
                else [],
                "sources": self._sources(session, viewer, candidate),
                "exclusions": self._exclusions(session, viewer, candidate),
                "consents": {
                    "viewer": self._consents(session, viewer),
                    "candidate": self._consents(session, candidate),
                },
            }

    def _sources(self, session: Session, viewer: int, candidate: int) -> list[dict[str, Any]]:
        """Every stored fact that links the two, with its date; whatever the consents say now."""
        found: list[dict[str, Any]] = []

        def since(kind: str, at: datetime | None, **extra: Any) -> None:
            if at is not None:
                found.append({"kind": kind, "since": as_utc(at).isoformat(), **extra})

        edge = session.get(ContactEdge, (viewer, candidate))
        since(
            "in_your_contacts",
            edge.created_at if edge else None,
            via="private" if edge and edge.source == "private" else "sync",
        )
        edge = session.get(ContactEdge, (candidate, viewer))
        since(
            "has_you_in_contacts",
            edge.created_at if edge else None,
            via="private" if edge and edge.source == "private" else "sync",
        )
        fan = session.get(Follow, (candidate, viewer))
        back = session.get(Follow, (viewer, candidate))
        since("follows_you", fan.created_at if fan and not back else None)
        both = max(fan.created_at, back.created_at) if fan and back else None
        since("mutual_follow", both)
        fof = session.get(FofCandidate, (viewer, candidate))
        if fof is not None:
            since("mutual_connections", fof.computed_at, count=fof.mutual_count)
        return found

    def _exclusions(self, session: Session, viewer: int, candidate: int) -> list[str]:
        checks = {
            "viewer_turned_suggestions_off": not self.consent.settings_in(session, viewer)[
                Setting.SUGGESTIONS_ENABLED
            ],
            "candidate_opted_out": not self.consent.settings_in(session, candidate)[
                Setting.RECOMMEND_ME_TO_OTHERS
            ],
            "already_followed": session.get(Follow, (viewer, candidate)) is not None,
            "blocked": session.get(Block, (viewer, candidate)) is not None
            or session.get(Block, (candidate, viewer)) is not None,
            "dismissed": session.get(Dismissal, (viewer, candidate)) is not None,
        }
        return [name for name, applies in checks.items() if applies]

    def _consents(self, session: Session, user_id: int) -> dict[str, bool]:
        state = self.consent.state(session, user_id)
        return {p.value: state[p.value].granted for p in Purpose}

    # -- rights requests -------------------------------------------------------------
    def open_requests(self, caller: Principal, reason: str | None) -> list[dict[str, Any]]:
        with self.uow.write() as session:
            stated = self._require(session, caller, reason)
            audit.record(
                session,
                at=self.clock.now(),
                actor=caller.subject_ref,
                action="operator_requests_read",
                details={"reason": stated},
            )
            return self.requests.open_requests(session)

    def close_request(
        self, caller: Principal, request_id: int, outcome: str, reason: str | None
    ) -> dict[str, Any]:
        with self.uow.write() as session:
            if session.get(Operator, caller.user_id) is None:
                raise Forbidden("not_an_operator", "Only operator accounts may do this.")
            return self.requests.close(session, caller.subject_ref, request_id, outcome, reason)

    # -- the audit log ---------------------------------------------------------------
    def audit_log(
        self, caller: Principal, reason: str | None, limit: int, before: int | None
    ) -> list[dict[str, Any]]:
        """The newest audit events (reading them is itself audited)."""
        if not 1 <= limit <= 200:
            raise InvalidInput("invalid_limit", "'limit' must be between 1 and 200.", field="limit")
        with self.uow.write() as session:
            stated = self._require(session, caller, reason)
            query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
            if before is not None:
                query = query.where(AuditEvent.id < before)
            rows = _events(session.scalars(query))
            audit.record(
                session,
                at=self.clock.now(),
                actor=caller.subject_ref,
                action="operator_audit_read",
                details={"reason": stated},
            )
            return rows


def _person(user: User) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "nickname": user.nickname,
        "member_since": as_utc(user.created_at).isoformat(),
    }


def _events(rows: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "at": as_utc(r.at).isoformat(),
            "actor": r.actor,
            "action": r.action,
            "subject": r.subject,
            "details": json.loads(r.details),
        }
        for r in rows
    ]
