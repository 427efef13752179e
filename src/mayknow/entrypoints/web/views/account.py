"""Sign-up and log-in with an SMS code, and log-out. In --dev the page shows the code."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Response
from fastapi.responses import RedirectResponse

from mayknow.accounts.service import SignedIn
from mayknow.entrypoints.api.deps import COOKIE, client_address
from mayknow.entrypoints.web import markdown
from mayknow.entrypoints.web.pages import MemberChange, Page, VisitorChange, Web, status_of
from mayknow.entrypoints.web.views import page_router
from mayknow.entrypoints.web.views.start import policy_links
from mayknow.policy.texts import policy
from mayknow.shared.errors import MayknowError

router = page_router()

Field = Annotated[str, Form(max_length=200)]


def _safe_next(target: str) -> str:
    """Only a path of ours: never another site, never a scheme-relative //host."""
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else "/follow"


def _outbox(web: Web, phone: str) -> str | None:
    """--dev only: the code just sent, so a developer can sign in without a phone."""
    outbox = web.services.outbox
    if not web.services.settings.dev or outbox is None:
        return None
    return outbox.last_code(web.services.accounts.parse_phone(phone))


def _signed_in(web: Web, signed: SignedIn, target: str) -> RedirectResponse:
    response = web.redirect(target)
    max_age = int((signed.session.expires_at - web.services.clock.now()).total_seconds())
    response.set_cookie(
        COOKIE,
        signed.session.token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=not web.services.settings.dev,
    )
    return response


def signed_out(web: Web, response: Response) -> Response:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=not web.services.settings.dev
    )
    return response


# -- sign-up -------------------------------------------------------------------------
@router.get("/signup")
def signup(web: Page, policy: str = "") -> Response:
    if web.member is not None:
        return web.redirect("/follow")
    if policy != web.services.consent.policy_version:
        return web.redirect("/")  # the policy summary comes first, always
    return web.render("signup.html", step="phone", phone="", policy=policy, error=None)


@router.post("/signup/code")
def signup_code(web: VisitorChange, phone: Field = "", policy: Field = "") -> Response:
    return _send_code(web, "signup.html", phone, policy=policy)


def _send_code(web: Web, template: str, phone: str, **context: object) -> Response:
    """Send a code to ``phone``: the page's code step, or its phone step with the refusal."""
    try:
        web.services.accounts.request_code(phone, client_address(web.request, web.services))
    except MayknowError as exc:
        return web.render(template, status_of(exc), step="phone", phone=phone, error=exc, **context)
    code = _outbox(web, phone)
    return web.render(template, 200, step="code", phone=phone, error=None, code=code, **context)


@router.post("/signup")
def signup_submit(
    web: VisitorChange,
    phone: Field = "",
    code: Field = "",
    nickname: Field = "",
    policy: Field = "",
) -> Response:
    address = client_address(web.request, web.services)
    try:
        signed = web.services.accounts.register(phone, code, nickname, policy, address, "web")
    except MayknowError as exc:
        step = "phone" if exc.code in {"invalid_phone", "phone_already_registered"} else "code"
        return web.render(
            "signup.html",
            status_of(exc),
            step=step,
            phone=phone,
            policy=policy,
            nickname=nickname,
            error=exc,
        )
    return _signed_in(web, signed, "/welcome")


# -- log-in --------------------------------------------------------------------------
@router.get("/login")
def login(web: Page, next: str = "/follow") -> Response:
    if web.member is not None:
        return web.redirect(_safe_next(next))
    return web.render("login.html", step="phone", phone="", next=_safe_next(next), error=None)


@router.post("/login/code")
def login_code(web: VisitorChange, phone: Field = "", next: Field = "/follow") -> Response:
    return _send_code(web, "login.html", phone, next=_safe_next(next))


@router.post("/login")
def login_submit(
    web: VisitorChange,
    phone: Field = "",
    code: Field = "",
    accept: Field = "",
    next: Field = "/follow",
) -> Response:
    target = _safe_next(next)
    try:
        signed = web.services.accounts.login(phone, code, accept or None, "web")
    except MayknowError as exc:
        if exc.code == "policy_reacceptance_required":
            text = policy(web.lang)
            return web.render(
                "login.html",
                step="policy",
                phone=phone,
                code=None,
                sent_code=code,
                next=target,
                error=None,
                version=text.version,
                summary=markdown.render(text.summary, policy_links(web), prefix="summary"),
            )
        step = "phone" if exc.code in {"invalid_phone", "account_not_found"} else "code"
        return web.render(
            "login.html", status_of(exc), step=step, phone=phone, next=target, error=exc
        )
    return _signed_in(web, signed, target)


@router.post("/logout")
def logout(web: MemberChange) -> Response:
    web.services.accounts.logout(web.caller)
    return signed_out(web, web.redirect("/"))
