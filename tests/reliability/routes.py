"""Every route of the app, found by walking its routers, so that a new one is covered."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    guards: frozenset[str]  # names of the route's dependencies: principal, member, ...
    page: bool  # a server-rendered page (HTML), not the JSON API

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _walk(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:  # FastAPI >= 0.16x keeps included routers as branches
            yield from _walk(candidates())
        else:
            yield route


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) the app answers with a route of its own, HEAD aside."""
    found = []
    for route in _walk(app.routes):
        original = getattr(route, "original_route", route)
        if not isinstance(original, APIRoute):
            continue  # /openapi.json, /docs, /redoc and the /static mount
        guards = frozenset(getattr(d.call, "__name__", "") for d in original.dependant.dependencies)
        page = type(original).__name__ == "PageRoute"
        for method in sorted(getattr(route, "methods", None) or original.methods):
            if method != "HEAD":
                found.append(Endpoint(method, route.path, guards, page))  # type: ignore[attr-defined]
    return found
