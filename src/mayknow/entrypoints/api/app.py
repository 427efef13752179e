"""The FastAPI application factory: routers, error mapping, middleware. No logic of its own."""

from __future__ import annotations

from fastapi import FastAPI

from mayknow import __version__
from mayknow.bootstrap import Container
from mayknow.entrypoints import web
from mayknow.entrypoints.api import errors
from mayknow.entrypoints.api.lifespan import lifespan_for
from mayknow.entrypoints.api.middleware import BodyLimit, SafeHeadersAndAccessLog
from mayknow.entrypoints.api.routers import (
    admin,
    auth,
    contacts,
    dev,
    follows,
    me,
    partners,
    policy,
    private,
    suggestions,
)


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="mayknow",
        version=__version__,
        summary="People you may know, with consent, reasons and nothing kept that need not be.",
        lifespan=lifespan_for(container),
        responses=errors.RESPONSES,  # every 4xx is {"error": {...}}; the document says so
    )
    app.state.container = container
    errors.install(app)
    for module in (policy, auth, me, follows, private, contacts, suggestions, admin, partners):
        app.include_router(module.router)
    if container.settings.dev:
        app.include_router(dev.router)
    web.install(app)  # the pages at / and their files at /static

    @app.get("/v1/health", tags=["operations"])
    async def health() -> dict[str, str]:  # async: nothing blocks, so no thread hop
        return {"status": "ok", "version": __version__}

    app.add_middleware(BodyLimit, limit=container.settings.max_body_bytes)
    app.add_middleware(SafeHeadersAndAccessLog)
    return app
