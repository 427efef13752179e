"""The follow tab: people you may know, each with its reasons; why, follow, dismiss, block.

Each change answers with the changed card when the page's script asks for it (the list
updates in place), else sends the browser back to the list.
"""

from __future__ import annotations

from fastapi import Response

from mayknow.consent.domain import Purpose, Setting
from mayknow.entrypoints.api.deps import client_address, parse_user_id
from mayknow.entrypoints.web.pages import Member, MemberChange, Web
from mayknow.entrypoints.web.views import page_router

router = page_router()

LIMIT = 30


def _state(web: Web) -> tuple[dict[str, bool], dict[str, bool]]:
    with web.services.uow.read() as session:
        state = web.services.consent.state(session, web.caller.user_id)
        settings = web.services.consent.settings_in(session, web.caller.user_id)
    return {p: s.granted for p, s in state.items()}, settings


@router.get("/follow")
def follow_tab(web: Member) -> Response:
    services, caller = web.services, web.caller
    shown = services.suggestions.suggestions(caller, LIMIT)
    consents, settings = _state(web)
    services.location.observe(caller.user_id, client_address(web.request, services))
    return web.render(
        "follow.html",
        suggestions=shown,
        consents=consents,
        settings=settings,
        city=services.location.profile_city(caller.user_id, web.lang),
        Purpose=Purpose,
        Setting=Setting,
    )


@router.get("/follow/{user_id}/why")
def why(web: Member, user_id: str) -> Response:
    candidate = parse_user_id(user_id)
    reasons = web.services.suggestions.why(web.caller, candidate)
    consents, _settings = _state(web)
    template = "_why.html" if web.fragment else "why.html"
    return web.render(
        template,
        user_id=candidate,
        reasons=reasons,
        consents=consents,
        weights=web.services.suggestions.weights,
    )


def _done(web: Web, user_id: int, outcome: str) -> Response:
    if web.fragment:
        return web.render("_outcome.html", user_id=user_id, outcome=outcome)
    return web.redirect("/follow")


@router.post("/follow/{user_id}/follow")
def follow(web: MemberChange, user_id: str) -> Response:
    followee = parse_user_id(user_id)
    web.services.graph.follow(web.caller.user_id, followee)
    return _done(web, followee, "followed")


@router.post("/follow/{user_id}/dismiss")
def dismiss(web: MemberChange, user_id: str) -> Response:
    candidate = parse_user_id(user_id)
    web.services.suggestions.dismiss(web.caller, candidate)
    return _done(web, candidate, "dismissed")


@router.post("/follow/{user_id}/undismiss")
def undismiss(web: MemberChange, user_id: str) -> Response:
    web.services.suggestions.undismiss(web.caller, parse_user_id(user_id))
    return web.redirect("/follow")


@router.post("/follow/{user_id}/block")
def block(web: MemberChange, user_id: str) -> Response:
    other = parse_user_id(user_id)
    web.services.suggestions.block(web.caller, other)
    return _done(web, other, "blocked")
