"""The operator console: the recall query ("熟人召回"), which needs a stated reason, and the
audit log. The operator service decides who may; every call is itself audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Response

from mayknow.entrypoints.api.deps import parse_user_id
from mayknow.entrypoints.web.pages import Member, MemberChange, Web, status_of
from mayknow.entrypoints.web.views import page_router
from mayknow.shared.errors import InvalidInput, MayknowError

router = page_router()

Text = Annotated[str, Form(max_length=2000)]
AUDIT_PAGE = 50


def _console(web: Web, status: int = 200, **context: Any) -> Response:
    context.setdefault("error", None)
    context.setdefault("answer", None)
    context.setdefault("events", None)
    context.setdefault("form", {})
    return web.render(
        "operator.html",
        status,
        operator=web.services.operators.is_operator(web.caller.user_id),
        **context,
    )


@router.get("/operator")
def console(web: Member) -> Response:
    return _console(web)


@router.post("/operator/recall")
def recall(
    web: MemberChange, viewer: Text = "", candidate: Text = "", reason: Text = ""
) -> Response:
    form = {"viewer": viewer, "candidate": candidate, "reason": reason}
    try:
        if not reason.strip():
            raise InvalidInput("reason_required", "State why you need this.", field="reason")
        answer = web.services.operators.recall(
            web.caller, parse_user_id(viewer.strip()), parse_user_id(candidate.strip()), reason
        )
    except MayknowError as exc:
        return _console(web, status_of(exc), error=exc, form=form)
    return _console(web, answer=answer, form=form)


@router.post("/operator/audit")
def audit_log(web: MemberChange, reason: Text = "") -> Response:
    form = {"audit_reason": reason}
    try:
        if not reason.strip():
            raise InvalidInput("reason_required", "State why you need this.", field="reason")
        events = web.services.operators.audit_log(web.caller, reason, AUDIT_PAGE, None)
    except MayknowError as exc:
        return _console(web, status_of(exc), error=exc, form=form)
    return _console(web, events=events, form=form)
