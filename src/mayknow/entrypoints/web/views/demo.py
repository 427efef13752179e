"""Development mode with the demo population: let the fictional members' apps run now."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Response

from mayknow.entrypoints.web.pages import MemberChange
from mayknow.entrypoints.web.views import page_router
from mayknow.shared.errors import NotFound

router = page_router()


@router.post("/dev/demo/tick")
def tick(web: MemberChange, next: Annotated[str, Form(max_length=32)] = "/follow") -> Response:
    demo = getattr(web.request.app.state, "demo", None)
    if demo is None:
        raise NotFound("not_available", "The demo population is not running.")
    demo.tick()
    return web.redirect(next if next in {"/follow", "/contacts", "/profile"} else "/follow")
