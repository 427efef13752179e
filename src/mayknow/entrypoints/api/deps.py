"""What routes need from a request: the container, the caller, the client's address."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from mayknow.accounts.sessions import Principal
from mayknow.bootstrap import Container
from mayknow.policy.texts import negotiate
from mayknow.shared.errors import Forbidden, NotAuthenticated, NotFound

COOKIE = "mayknow_session"
# The largest value an INTEGER column holds (PostgreSQL's is 32-bit): sequence numbers and
# ids in queries stay below it, so that a larger one is a 422, not a database error.
INTEGER_MAX = 2**31 - 1
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
T = TypeVar("T")


async def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


Services = Annotated[Container, Depends(container)]


def _token(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    return request.cookies.get(COOKIE), True


@dataclass(frozen=True)
class Credentials:
    """The session token a request carries, not yet looked up."""

    token: str
    from_cookie: bool


def _credentials(request: Request) -> Credentials:
    token, from_cookie = _token(request)
    if token is None or len(token) > 256:
        raise NotAuthenticated("not_authenticated", "Sign in first.")
    return Credentials(token, from_cookie)


def authenticated(request: Request, services: Container, credentials: Credentials) -> Principal:
    """The caller behind the credentials (blocking: a session lookup), or 401/403."""
    return _checked(request, credentials, services.accounts.authenticate(credentials.token))


@dataclass(frozen=True)
class Asking:
    """A reading route's request, its services and its credentials, in one dependency
    (each dependency costs FastAPI time on the hottest routes)."""

    request: Request
    services: Container
    credentials: Credentials

    async def as_caller(
        self, read: Callable[[Principal], T | None], otherwise: Callable[[Principal], T]
    ) -> T:
        """Authenticate, then answer with ``read``, which only reads the store.

        Where reads are local (SQLite) and nothing is to be written (no session touch is
        due, and ``read`` did not answer None), both run on the event loop: a read by key
        costs less than a hop through the thread pool. Otherwise everything runs in one
        hop, with ``otherwise`` (which may write) answering instead of ``read``."""
        request, services, credentials = self.request, self.services, self.credentials
        caller = _resolved_here(request, services, credentials)
        if caller is not None:
            answer = read(caller)
            if answer is not None:
                return answer
        return await run_in_threadpool(
            lambda: otherwise(authenticated(request, services, credentials))
        )


async def asking(request: Request) -> Asking:
    # async: no blocking work, so no hop through the thread pool
    return Asking(request, request.app.state.container, _credentials(request))


AsCaller = Annotated[Asking, Depends(asking)]


def _checked(request: Request, credentials: Credentials, found: Principal | None) -> Principal:
    if found is None:
        raise NotAuthenticated("session_expired", "The session has ended: sign in again.")
    if credentials.from_cookie and request.method not in _SAFE_METHODS:
        _same_origin(request)
    return found


async def principal(request: Request, services: Services) -> Principal:
    credentials = _credentials(request)
    found = _resolved_here(request, services, credentials)
    if found is not None:
        return found
    return await run_in_threadpool(authenticated, request, services, credentials)


def signed_in(request: Request, services: Container) -> Principal:
    """The caller, from blocking code (the web pages' dependencies), or 401/403."""
    return authenticated(request, services, _credentials(request))


def _resolved_here(
    request: Request, services: Container, credentials: Credentials
) -> Principal | None:
    """The caller, looked up on the event loop where reads are local (SQLite) and no visit
    is due to be recorded; None where that takes the thread pool."""
    if not services.uow.reads_inline:
        return None
    found = _checked(request, credentials, services.accounts.resolve(credentials.token))
    return None if found.needs_touch else found


def _same_origin(request: Request) -> None:
    """A cookie-authenticated change must come from our own pages (SameSite=Lax plus this)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Forbidden("cross_origin", "Requests from other sites are refused.")


Caller = Annotated[Principal, Depends(principal)]


def client_address(request: Request, services: Container) -> str:
    """The connection's address, or X-Forwarded-For's last untrusted hop behind our proxies."""
    peer = request.client.host if request.client else ""
    trusted = services.settings.trusted_proxies
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return peer


def _within(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


async def _client_address(request: Request, services: Services) -> str:
    # async: no blocking work, so no hop through the thread pool
    return client_address(request, services)


Address = Annotated[str, Depends(_client_address)]


def parse_user_id(raw: str) -> int:
    """Ids in paths: anything that is not a plausible id is simply not found."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16:
        raise NotFound("user_not_found", "There is no such account.")
    return int(raw)


def language_of(request: Request) -> str:
    """zh-CN unless ``?lang=`` or Accept-Language asks for English first."""
    return negotiate(request.query_params.get("lang") or request.headers.get("accept-language"))


async def language(request: Request) -> str:
    return language_of(request)


Language = Annotated[str, Depends(language)]
