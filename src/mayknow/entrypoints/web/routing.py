"""The route class of every page: answers in HTML, never in the API's JSON.

A missing or ended session sends the visitor to log in; a service's error becomes a page
that says what went wrong in the visitor's language, with the status the API would give.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from mayknow.entrypoints.web import i18n
from mayknow.entrypoints.web.assets import PAGE_HEADERS
from mayknow.entrypoints.web.pages import Web, status_of
from mayknow.shared.errors import MayknowError, NotAuthenticated

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _login(request: Request) -> RedirectResponse:
    lang = request.query_params.get("lang")
    query = {"next": request.url.path} if request.method == "GET" else {}
    if lang in i18n.LANGUAGES:
        query["lang"] = lang
    return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)


def error_page(request: Request, status: int, code: str, message: str) -> Response:
    lang, explicit = i18n.choose(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    web = Web(request, request.app.state.container, lang, explicit)
    return web.render("error.html", status=status, code=code, message=message)


class PageRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await inner(request)
            except NotAuthenticated:
                response = _login(request)
            except MayknowError as exc:
                response = error_page(request, status_of(exc), exc.code, exc.message)
            except RequestValidationError:
                response = error_page(request, 422, "incomplete_form", "The form is incomplete.")
            response.headers.update(PAGE_HEADERS)
            return response

        return handler
