"""What every page needs: the language, links that keep it, the caller, forms that are ours.

Forms are guarded twice. Every POST to a page must come from our own origin (the Origin
header, else Sec-Fetch-Site, else the Referer; a POST with none of them is refused), and
every form of a signed-in member carries a token bound to the session (an HMAC of the
session's digest under the key ring), so a request forged without our page fails even
where a browser sends no Origin. The session cookie stays the only cookie.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from mayknow.accounts.sessions import Principal
from mayknow.bootstrap import Container
from mayknow.entrypoints.api.deps import COOKIE, container, signed_in
from mayknow.entrypoints.api.errors import STATUS
from mayknow.entrypoints.web import i18n
from mayknow.entrypoints.web.render import environment
from mayknow.shared.errors import Forbidden, MayknowError, NotAuthenticated

GUARD_FIELD = "form_guard"
_GUARD_LABEL = "web-form-guard"


@dataclass
class Web:
    """One request to a page: services, language, the member if signed in."""

    request: Request
    services: Container
    lang: str
    explicit: bool
    member: Principal | None = None
    nickname: str | None = None

    @property
    def caller(self) -> Principal:
        assert self.member is not None, "a page for members only"
        return self.member

    def url(self, path: str, **params: object) -> str:
        """A link that keeps the visitor's chosen language."""
        query = {k: str(v) for k, v in params.items() if v is not None}
        if self.explicit:
            query["lang"] = self.lang
        return f"{path}?{urlencode(query)}" if query else path

    def switch_url(self, language: str) -> str:
        """This page in the other language; after a form, the start (a form is not a link)."""
        if self.request.method != "GET":
            return f"/?{urlencode({'lang': language})}"
        query = dict(self.request.query_params)
        query["lang"] = language
        return f"{self.request.url.path}?{urlencode(query)}"

    def redirect(self, path: str, **params: object) -> RedirectResponse:
        return RedirectResponse(self.url(path, **params), status_code=303)

    @property
    def guard(self) -> str:
        return guard_for(self.services, self.member) if self.member else ""

    @property
    def fragment(self) -> bool:
        """The page's script asked for the changed part only, to swap it in place."""
        return self.request.headers.get("x-requested-with") == "fetch"

    def render(self, template: str, status: int = 200, **context: object) -> HTMLResponse:
        html = (
            environment(self.lang)
            .get_template(template)
            .render(
                web=self,
                lang=self.lang,
                url=self.url,
                dev=self.services.settings.dev,
                demo=getattr(self.request.app.state, "demo", None) is not None,
                **context,
            )
        )
        return HTMLResponse(html, status_code=status)


def status_of(exc: MayknowError) -> int:
    """The HTTP status the API gives the same error."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def guard_for(services: Container, member: Principal) -> str:
    return services.keys.digest(_GUARD_LABEL, member.session_hash).hex()


def _guard_ok(services: Container, member: Principal, sent: object) -> bool:
    if not isinstance(sent, str) or len(sent) != 64:
        return False
    expected = services.keys.digests(_GUARD_LABEL, member.session_hash)
    return any(hmac.compare_digest(sent, e.hex()) for e in expected)


def same_origin(request: Request) -> None:
    """A POST to a page must say it comes from our own origin."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None:
        ok = urlsplit(origin).netloc == host
    elif "sec-fetch-site" in request.headers:
        ok = request.headers["sec-fetch-site"] in {"same-origin", "none"}
    elif "referer" in request.headers:
        ok = urlsplit(request.headers["referer"]).netloc == host
    else:
        ok = False
    if not ok:
        raise Forbidden("cross_origin", "Requests from other sites are refused.")


def _web(request: Request, services: Container) -> Web:
    lang, explicit = i18n.choose(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    return Web(request, services, lang, explicit)


def page(request: Request, services: Annotated[Container, Depends(container)]) -> Web:
    """Anyone: the visitor may or may not be signed in."""
    web = _web(request, services)
    if request.cookies.get(COOKIE):
        try:
            web.member = signed_in(request, services)
        except NotAuthenticated:  # an ended session simply counts as signed out
            web.member = None
    return web


def member(request: Request, services: Annotated[Container, Depends(container)]) -> Web:
    """A signed-in member; without a session the page sends them to log in."""
    web = _web(request, services)
    web.member = signed_in(request, services)
    return web


async def visitor_change(
    request: Request, services: Annotated[Container, Depends(container)]
) -> Web:
    """A form of a visitor who is not signed in (sign-up, log-in): our origin only."""
    same_origin(request)
    return _web(request, services)


async def member_change(
    request: Request, services: Annotated[Container, Depends(container)]
) -> Web:
    """A form of a signed-in member: our origin, a live session and the session's token."""
    same_origin(request)
    web = await run_in_threadpool(member, request, services)
    form = await request.form()
    if not _guard_ok(services, web.caller, form.get(GUARD_FIELD)):
        raise Forbidden("form_expired", "This form has expired: reload the page.")
    return web


Page = Annotated[Web, Depends(page)]
Member = Annotated[Web, Depends(member)]
VisitorChange = Annotated[Web, Depends(visitor_change)]
MemberChange = Annotated[Web, Depends(member_change)]
