"""Requests that cannot be completed at once: tracked, with a deadline and a stated outcome."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mayknow.accounts.sessions import Principal
from mayknow.audit import service as audit
from mayknow.db.ops import affected
from mayknow.db.uow import UnitOfWork
from mayknow.rights.domain import RequestKind, due_after
from mayknow.rights.models import RightsRequest
from mayknow.shared.clock import Clock, as_utc
from mayknow.shared.errors import Conflict, InvalidInput, NotFound

DETAILS_MAX = 2000


def _kind(raw: str) -> RequestKind:
    try:
        return RequestKind(raw)
    except ValueError:
        kinds = ", ".join(k.value for k in RequestKind)
        raise InvalidInput("invalid_kind", f"'kind' is one of: {kinds}.", field="kind") from None


def request_json(r: RightsRequest) -> dict[str, object]:
    return {
        "id": r.id,
        "kind": r.kind,
        "details": r.details,
        "status": r.status,
        "received_at": as_utc(r.received_at).isoformat(),
        "due_at": as_utc(r.due_at).isoformat(),
        "closed_at": as_utc(r.closed_at).isoformat() if r.closed_at else None,
        "refusal_reason": r.refusal_reason,
    }


class RequestService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow, self.clock = uow, clock

    def open(self, principal: Principal, kind: str, details: str) -> dict[str, object]:
        chosen = _kind(kind)
        text = details.strip()
        if not text or len(text) > DETAILS_MAX:
            raise InvalidInput(
                "invalid_details",
                f"Describe the request in 1 to {DETAILS_MAX} characters.",
                field="details",
            )
        now = self.clock.now()
        with self.uow.write() as session:
            row = RightsRequest(
                user_id=principal.user_id,
                kind=chosen.value,
                details=text,
                status="open",
                received_at=now,
                due_at=due_after(now),
            )
            session.add(row)
            session.flush()
            audit.record(
                session,
                at=now,
                actor=principal.subject_ref,
                action="rights_request_opened",
                subject=principal.subject_ref,
                details={"kind": chosen.value, "request": row.id},
            )
            return request_json(row)

    def mine(self, principal: Principal) -> list[dict[str, object]]:
        with self.uow.read() as session:
            rows = session.scalars(
                select(RightsRequest)
                .where(RightsRequest.user_id == principal.user_id)
                .order_by(RightsRequest.id)
            )
            return [request_json(r) for r in rows]

    def open_requests(self, session: Session) -> list[dict[str, object]]:
        rows = session.scalars(
            select(RightsRequest)
            .where(RightsRequest.status == "open")
            .order_by(RightsRequest.due_at)
        )
        return [request_json(r) for r in rows]

    def close(
        self, session: Session, actor: str, request_id: int, outcome: str, reason: str | None
    ) -> dict[str, object]:
        """Mark a request done, or refused with the reason the member will read."""
        row = session.get(RightsRequest, request_id, with_for_update=True)
        if row is None:
            raise NotFound("request_not_found", "There is no such request.")
        if row.status != "open":
            raise Conflict("request_closed", "That request is already closed.")
        if outcome not in {"done", "refused"}:
            raise InvalidInput(
                "invalid_outcome", "'outcome' is 'done' or 'refused'.", field="outcome"
            )
        if outcome == "refused" and not (reason or "").strip():
            raise InvalidInput(
                "reason_required", "A refusal must state its reason.", field="reason"
            )
        row.status, row.closed_at = outcome, self.clock.now()
        row.refusal_reason = (reason or "").strip() or None if outcome == "refused" else None
        audit.record(
            session,
            at=row.closed_at,
            actor=actor,
            action="rights_request_closed",
            details={"request": row.id, "outcome": outcome},
        )
        return request_json(row)

    def export_in(self, session: Session, user_id: int) -> dict[str, object]:
        rows = session.scalars(select(RightsRequest).where(RightsRequest.user_id == user_id))
        return {"rights_requests": [request_json(r) for r in rows]}

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]:
        gone = delete(RightsRequest).where(RightsRequest.user_id == user_id)
        return {"rights_requests": affected(session, gone)}
