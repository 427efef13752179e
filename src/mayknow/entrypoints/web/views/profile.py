"""The member's profile: the city appears only when consented, derived and shown."""

from __future__ import annotations

from fastapi import Response

from mayknow.entrypoints.api.deps import client_address
from mayknow.entrypoints.web.pages import Member
from mayknow.entrypoints.web.views import page_router

router = page_router()


@router.get("/profile")
def profile(web: Member) -> Response:
    services, uid = web.services, web.caller.user_id
    services.location.observe(uid, client_address(web.request, services))
    return web.render(
        "profile.html",
        profile=services.accounts.profile(web.caller),
        city=services.location.profile_city(uid, web.lang),
        following=len(services.graph.following(uid)),
        fans=len(services.graph.fans(uid)),
        mutuals=len(services.graph.mutuals(uid)),
    )
