"""Onboarding: one card per purpose, what, why and for how long; "not now" as easy as "allow"."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Response

from mayknow.consent.domain import Purpose
from mayknow.consent.service import parse_purpose
from mayknow.entrypoints.api.deps import client_address
from mayknow.entrypoints.web.pages import Member, MemberChange, Web
from mayknow.entrypoints.web.texts import ONBOARDING, PURPOSES
from mayknow.entrypoints.web.views import page_router

router = page_router()


def observe_city(web: Web) -> None:
    """The city is worked out only now that it is allowed, from this request's address."""
    web.services.location.observe(web.caller.user_id, client_address(web.request, web.services))


@router.get("/welcome")
def card(web: Member, step: int = 1) -> Response:
    if not 1 <= step <= len(ONBOARDING):
        return web.redirect("/follow")
    purpose = ONBOARDING[step - 1]
    with web.services.uow.read() as session:
        state = web.services.consent.state(session, web.caller.user_id)[purpose.value]
    return web.render(
        "welcome.html",
        step=step,
        steps=len(ONBOARDING),
        text=PURPOSES[purpose],
        purpose=purpose.value,
        granted=state.granted,
    )


@router.post("/welcome/{purpose}")
def choose(
    web: MemberChange,
    purpose: str,
    step: Annotated[int, Form()] = 1,
    choice: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """ "Allow" grants the purpose; "not now" records nothing and changes nothing."""
    chosen = parse_purpose(purpose)
    if choice == "allow":
        web.services.consent.change(
            web.caller.user_id, web.caller.subject_ref, chosen, True, channel="web"
        )
        if chosen is Purpose.LOCATION_CITY:
            observe_city(web)
    return web.redirect("/welcome", step=step + 1)
