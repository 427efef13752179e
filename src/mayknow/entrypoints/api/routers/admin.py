"""Operator endpoints: the recall query and the audit log. Each call is itself audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from mayknow.entrypoints.api.deps import INTEGER_MAX, Caller, Services, parse_user_id
from mayknow.entrypoints.api.schemas import RequestClose

router = APIRouter(prefix="/v1/admin", tags=["operators"])

Reason = Annotated[
    str | None, Query(max_length=2000, description="Why you need this (10 to 500 characters).")
]


@router.get("/recall")
def recall(
    caller: Caller,
    services: Services,
    viewer: Annotated[str, Query(max_length=20)],
    candidate: Annotated[str, Query(max_length=20)],
    reason: Reason = None,
) -> dict[str, Any]:
    """Why ``candidate`` is or would be suggested to ``viewer``: sources and since when."""
    return services.operators.recall(
        caller, parse_user_id(viewer), parse_user_id(candidate), reason
    )


@router.get("/audit")
def audit_log(
    caller: Caller,
    services: Services,
    reason: Reason = None,
    limit: Annotated[int, Query()] = 50,
    before: Annotated[int | None, Query(ge=1, le=INTEGER_MAX)] = None,
) -> dict[str, Any]:
    """The newest audit events, newest first; page with ``before`` (an event id)."""
    return {"events": services.operators.audit_log(caller, reason, limit, before)}


@router.get("/requests")
def open_requests(caller: Caller, services: Services, reason: Reason = None) -> dict[str, Any]:
    """Rights requests still open, the nearest deadline first."""
    return {"requests": services.operators.open_requests(caller, reason)}


@router.post("/requests/{request_id}/close")
def close_request(
    request_id: Annotated[int, Path(ge=1, le=INTEGER_MAX)],
    body: RequestClose,
    caller: Caller,
    services: Services,
) -> dict[str, Any]:
    """Close a request as done, or refused with the reason the member will read."""
    return services.operators.close_request(caller, request_id, body.outcome, body.reason)
