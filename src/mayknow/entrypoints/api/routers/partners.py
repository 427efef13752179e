"""Partner apps (H9): "Log in with mayknow" (OAuth 2.0 code + PKCE S256), what a partner
may fetch with its token, and the member's view of their grants and the egress ledger.

`POST /v1/oauth/token` answers errors in the shape OAuth clients expect (RFC 6749 §5.2:
`{"error", "error_description"}`), not mayknow's `{"error": {"code", "message"}}`; every
other route here answers in mayknow's shape.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from mayknow.entrypoints.api.deps import Caller, Services
from mayknow.entrypoints.api.schemas import Strict
from mayknow.partners.errors import InvalidAccessToken, TokenRefused
from mayknow.partners.service import Params

router = APIRouter(tags=["partners"])

NO_STORE = {"Pragma": "no-cache"}  # Cache-Control: no-store is on every answer (middleware)
CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def _pairs(**values: str | None) -> Params:
    return [(name, value) for name, value in values.items() if value is not None]


# -- the member, at the authorization endpoint ------------------------------------------
class ConsentScreenOut(BaseModel):
    client_id: str
    partner_name: str
    redirect_uri: str
    state: str | None
    public_profile: list[str] = Field(description="Always provided on login.")
    requested: list[str] = Field(description="Categories beyond the public profile.")
    already_granted: list[str] = Field(description="Requested categories granted before.")
    share_with_partner_apps: bool = Field(description="Whether the global consent holds.")


class Decision(Strict):
    response_type: str = Field(default="code", max_length=16)
    client_id: str | None = Field(default=None, max_length=200)
    redirect_uri: str | None = Field(default=None, max_length=2000)
    scope: str | None = Field(default=None, max_length=200)
    state: str | None = Field(default=None, max_length=500)
    code_challenge: str | None = Field(default=None, max_length=200)
    code_challenge_method: str | None = Field(default=None, max_length=16)
    approve: bool
    share: list[str] = Field(
        default_factory=list, max_length=10, description="Categories the member ticked."
    )


class Redirect(BaseModel):
    redirect_to: str


@router.get("/v1/oauth/authorize")
def consent_screen(
    caller: Caller,
    services: Services,
    response_type: Annotated[str | None, Query(max_length=16)] = None,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    redirect_uri: Annotated[str | None, Query(max_length=2000)] = None,
    scope: Annotated[str | None, Query(max_length=200)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
    code_challenge: Annotated[str | None, Query(max_length=200)] = None,
    code_challenge_method: Annotated[str | None, Query(max_length=16)] = None,
) -> ConsentScreenOut:
    """What to ask the signed-in member: the partner, what it requests beyond the public
    profile, and what they granted it before. An invalid request (unknown client, a
    redirect URI not registered, PKCE missing or not S256) is a 400 and redirects nowhere."""
    params = _pairs(
        response_type=response_type,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
    )
    screen = services.partners.consent_screen(caller, params)
    return ConsentScreenOut.model_validate(screen, from_attributes=True)


@router.post("/v1/oauth/authorize")
def decide(body: Decision, caller: Caller, services: Services) -> Redirect:
    """The member's answer. Approving issues a single-use code (60 s) and, for categories
    in `share`, records the grant to this partner (needs `share_with_partner_apps`);
    declining answers a redirect with `error=access_denied`."""
    params = _pairs(**body.model_dump(exclude={"approve", "share"}))
    target = services.partners.authorize(caller, params, body.approve, body.share)
    return Redirect(redirect_to=target)


# -- the partner, at the token endpoint ---------------------------------------------------
class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class OAuthError(BaseModel):
    """RFC 6749 §5.2: the token endpoint's errors, in the shape OAuth clients expect."""

    error: str
    error_description: str


@router.post(
    "/v1/oauth/token",
    response_model=TokenOut,
    responses={
        400: {"model": OAuthError, "description": "RFC 6749 §5.2 error"},
        401: {"model": OAuthError, "description": "invalid_client"},
    },
)
def token(
    services: Services,
    grant_type: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    code_verifier: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Exchange a code and its PKCE verifier for a bearer token (1 hour). Errors are in
    RFC 6749 §5.2 shape. A code used twice is refused and the tokens it issued are revoked."""
    params = _pairs(
        grant_type=grant_type,
        code=code,
        redirect_uri=redirect_uri,
        client_id=client_id,
        code_verifier=code_verifier,
    )
    try:
        issued = services.partners.exchange(params)
    except TokenRefused as exc:
        answer = {"error": exc.code, "error_description": exc.message}
        status_code = 401 if exc.code == "invalid_client" else 400
        return JSONResponse(answer, status_code=status_code, headers=NO_STORE)
    return JSONResponse(
        TokenOut.model_validate(issued, from_attributes=True).model_dump(), headers=NO_STORE
    )


# -- the partner, with its token ------------------------------------------------------------
def _partner_token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip() or len(value) > 256:
        raise HTTPException(401, "A partner access token is required.", headers=CHALLENGE)
    return value.strip()


PartnerToken = Annotated[str, Depends(_partner_token)]


class PartnerProfile(BaseModel):
    sub: str = Field(description="The member's identifier for this partner only (pairwise).")
    nickname: str
    avatar: str | None


class MatchedContact(BaseModel):
    sub: str = Field(description="The contact's identifier for this partner only.")
    nickname: str


class MatchedContacts(BaseModel):
    contacts: list[MatchedContact]


@router.get("/v1/partner/me")
def partner_me(secret: PartnerToken, services: Services) -> PartnerProfile:
    """The public profile, for any valid token; recorded in the member's egress ledger."""
    try:
        return PartnerProfile.model_validate(services.partners.public_profile(secret))
    except InvalidAccessToken as exc:
        raise HTTPException(401, exc.message, headers=CHALLENGE) from None


@router.get("/v1/partner/contacts")
def partner_contacts(secret: PartnerToken, services: Services) -> MatchedContacts:
    """The member's matched contacts, only while `share_with_partner_apps` holds and the
    member's grant to this partner covers `matched_contacts`; else `403 consent_required`.
    Only contacts whose own grant to this partner covers `matched_contacts` are listed."""
    try:
        people = services.partners.matched_contacts(secret)
    except InvalidAccessToken as exc:
        raise HTTPException(401, exc.message, headers=CHALLENGE) from None
    return MatchedContacts.model_validate({"contacts": people})


# -- the member's view ----------------------------------------------------------------------
class GrantOut(BaseModel):
    partner_id: str
    partner_name: str | None
    categories: list[str]
    granted_at: str
    revoked_at: str | None


class EgressOut(BaseModel):
    partner_id: str
    partner_name: str | None
    categories: list[str]
    count: int
    at: str


class Connections(BaseModel):
    grants: list[GrantOut] = Field(description="The grants in force, one per partner.")
    egress: list[EgressOut] = Field(description="Every provision to a partner, newest first.")


@router.get("/v1/me/partners")
def my_partners(caller: Caller, services: Services) -> Connections:
    """The caller's grants to partner apps and what each partner received."""
    return Connections.model_validate(services.partners.connections(caller))


@router.delete("/v1/me/partners/{partner_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_partner(partner_id: str, caller: Caller, services: Services) -> None:
    """Revoke this partner's grant, tokens and pending codes, at once."""
    services.partners.revoke(caller, partner_id)
