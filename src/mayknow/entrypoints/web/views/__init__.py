"""One module per page or group of pages; each view parses, calls a service, renders."""

from __future__ import annotations

from fastapi import APIRouter

from mayknow.entrypoints.web.routing import PageRoute


def page_router() -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False)
