"""The caller's own account: profile, consents, settings, sessions, export, deletion."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse

from mayknow.consent.domain import Purpose
from mayknow.consent.service import parse_purpose, state_json
from mayknow.entrypoints.api.deps import (
    COOKIE,
    Address,
    AsCaller,
    Caller,
    Language,
    Services,
    client_address,
    language_of,
    parse_user_id,
)
from mayknow.entrypoints.api.schemas import (
    CodeRequest,
    CodeSent,
    ConsentChange,
    ConsentOut,
    Consents,
    Deleted,
    Me,
    NicknameChange,
    People,
    PhoneChange,
    RequestIn,
    Sessions,
    SettingsChange,
    SettingsOut,
)

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get("")
async def me(asking: AsCaller) -> Me:
    """The caller's profile; ``city`` is null unless location consent holds and display is on."""
    request, services = asking.request, asking.services
    language = language_of(request)
    profile = await asking.as_caller(
        lambda caller: services.location.stored_profile(caller, language),
        lambda caller: services.location.profile(  # may derive the city first
            caller, client_address(request, services), language
        ),
    )
    return Me.model_validate(profile)


@router.delete("", status_code=status.HTTP_202_ACCEPTED)
def delete_me(caller: Caller, services: Services, response: Response) -> Deleted:
    """Erase the account and everything derived from it; answer with a receipt."""
    receipt = services.rights.delete_account(caller)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=not services.settings.dev
    )
    return Deleted(receipt=receipt)  # type: ignore[arg-type]


@router.patch("")
def correct(
    body: NicknameChange, caller: Caller, services: Services, address: Address, language: Language
) -> Me:
    """Correct the nickname (the number changes through PUT /v1/me/phone)."""
    services.corrections.nickname(caller, body.nickname)
    return Me.model_validate(services.location.profile(caller, address, language))


@router.post("/phone/code", status_code=status.HTTP_202_ACCEPTED)
def phone_code(
    body: CodeRequest, _caller: Caller, services: Services, address: Address
) -> CodeSent:
    """Send a code to the new number, to prove it is yours."""
    return CodeSent(expires_in=services.corrections.send_phone_code(body.phone, address))


@router.put("/phone")
def change_phone(body: PhoneChange, caller: Caller, services: Services) -> dict[str, Any]:
    """Move the account to the new number; links made from the old one are erased."""
    return {"erased": services.corrections.phone(caller, body.phone, body.code)}


@router.delete("/city", status_code=status.HTTP_204_NO_CONTENT)
def erase_city(caller: Caller, services: Services) -> None:
    """Erase the stored city now (while location_city holds, the next visit derives it again)."""
    with services.uow.write() as session:
        services.location.erase(session, caller.user_id)


@router.delete("/in-address-books/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def erase_incoming_link(user_id: str, caller: Caller, services: Services) -> None:
    """Erase the link from one member's address book to you. It forms again if they sync
    your number while you are discoverable: block them, or withdraw discoverable_by_phone."""
    services.contacts.erase_incoming_one(caller, parse_user_id(user_id))


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(session_id: str, caller: Caller, services: Services) -> None:
    """Sign one of your sessions out (ids as GET /v1/me/sessions lists them)."""
    services.accounts.sign_out(caller, session_id)


@router.post("/requests", status_code=status.HTTP_202_ACCEPTED)
def open_request(body: RequestIn, caller: Caller, services: Services) -> dict[str, Any]:
    """A request that cannot be completed at once: answered within 15 working days."""
    return services.requests.open(caller, body.kind, body.details)


@router.get("/requests")
def my_requests(caller: Caller, services: Services) -> dict[str, Any]:
    return {"requests": services.requests.mine(caller)}


@router.get(
    "/export",
    response_model=None,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
def export(
    caller: Caller,
    services: Services,
    language: Language,
    format: Annotated[Literal["json", "html"], Query()] = "json",
) -> dict[str, Any] | HTMLResponse:
    """Every piece of personal data about the caller: JSON, or a readable page."""
    if format == "html":
        return HTMLResponse(services.rights.export_html(caller, language))
    return services.rights.export(caller)


@router.get("/consents")
def consents(caller: Caller, services: Services) -> Consents:
    with services.uow.read() as session:
        state = services.consent.state(session, caller.user_id)
        accepted = services.consent.accepted_version(session, caller.user_id)
    return Consents.model_validate(
        {
            "purposes": {p: state_json(s) for p, s in state.items()},
            "policy": {
                "current_version": services.consent.policy_version,
                "accepted_version": accepted,
            },
        }
    )


@router.put("/consents/{purpose}")
def set_consent(
    purpose: str, body: ConsentChange, caller: Caller, services: Services, address: Address
) -> ConsentOut:
    """Grant or withdraw one purpose. A withdrawal erases what it alone justified, at once."""
    chosen = parse_purpose(purpose)
    state = services.consent.change(
        caller.user_id, caller.subject_ref, chosen, body.granted, channel="api"
    )
    if chosen is Purpose.LOCATION_CITY and body.granted:
        services.location.observe(caller.user_id, address)
    return ConsentOut(purpose=chosen.value, **state_json(state))  # type: ignore[arg-type]


@router.get("/settings")
def get_settings(caller: Caller, services: Services) -> SettingsOut:
    with services.uow.read() as session:
        return SettingsOut(**services.consent.settings_in(session, caller.user_id))


@router.put("/settings")
def put_settings(body: SettingsChange, caller: Caller, services: Services) -> SettingsOut:
    changes = body.model_dump(exclude_none=True)
    return SettingsOut(
        **services.consent.update_settings(caller.user_id, caller.subject_ref, changes)
    )


@router.get("/sessions")
def sessions(caller: Caller, services: Services) -> Sessions:
    return Sessions.model_validate({"sessions": services.accounts.active_sessions(caller)})


@router.get("/following")
def following(caller: Caller, services: Services) -> People:
    return People.model_validate({"people": services.graph.following(caller.user_id)})


@router.get("/fans")
def fans(caller: Caller, services: Services) -> People:
    return People.model_validate({"people": services.graph.fans(caller.user_id)})


@router.get("/mutuals")
def mutuals(caller: Caller, services: Services) -> People:
    return People.model_validate({"people": services.graph.mutuals(caller.user_id)})
