"""Mounting the pages and their static files on the API's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from mayknow.entrypoints.web.assets import STATIC_DIR
from mayknow.entrypoints.web.views import (
    account,
    contacts,
    demo,
    follow,
    how,
    onboarding,
    operator,
    privacy,
    profile,
    start,
)


def install(app: FastAPI) -> None:
    for module in (start, account, onboarding, follow, contacts, privacy, profile, how, operator):
        app.include_router(module.router)
    if app.state.container.settings.dev:
        app.include_router(demo.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
