"""Codes, registration, login, logout."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from mayknow.accounts.service import SignedIn as Signed
from mayknow.entrypoints.api.deps import COOKIE, Address, Caller, Services
from mayknow.entrypoints.api.schemas import (
    CodeRequest,
    CodeSent,
    LoginRequest,
    RegisterRequest,
    SignedIn,
)

router = APIRouter(prefix="/v1/auth", tags=["accounts"])


def _signed_in(services: Services, response: Response, signed: Signed) -> SignedIn:
    max_age = int((signed.session.expires_at - services.clock.now()).total_seconds())
    response.set_cookie(
        COOKIE,
        signed.session.token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=not services.settings.dev,
    )
    return SignedIn(
        user_id=signed.user_id,
        token=signed.session.token,
        expires_at=signed.session.expires_at.isoformat(),
    )


@router.post("/code", status_code=status.HTTP_202_ACCEPTED)
def request_code(body: CodeRequest, services: Services, address: Address) -> CodeSent:
    """Send a one-time code to the number, whether or not it has an account."""
    return CodeSent(expires_in=services.accounts.request_code(body.phone, address))


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(
    body: RegisterRequest, services: Services, address: Address, response: Response
) -> SignedIn:
    signed = services.accounts.register(
        body.phone, body.code, body.nickname, body.accept_policy_version, address, channel="api"
    )
    return _signed_in(services, response, signed)


@router.post("/login")
def login(body: LoginRequest, services: Services, address: Address, response: Response) -> SignedIn:
    signed = services.accounts.login(
        body.phone, body.code, body.accept_policy_version, channel="api", address=address
    )
    return _signed_in(services, response, signed)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(caller: Caller, services: Services, response: Response) -> None:
    services.accounts.logout(caller)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=not services.settings.dev
    )
