"""The caller's own account: profile, consents, settings, sessions, export, deletion."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from mayknow.consent.domain import Purpose
from mayknow.consent.service import parse_purpose, state_json
from mayknow.entrypoints.api.deps import COOKIE, Address, Caller, Language, Services
from mayknow.entrypoints.api.schemas import (
    ConsentChange,
    ConsentOut,
    Consents,
    Deleted,
    Me,
    People,
    Sessions,
    SettingsChange,
    SettingsOut,
)

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get("")
def me(caller: Caller, services: Services, address: Address, language: Language) -> Me:
    """The caller's profile; ``city`` is null unless location consent holds and display is on."""
    services.location.observe(caller.user_id, address)
    city = services.location.profile_city(caller.user_id, language)
    return Me(**services.accounts.profile(caller), city=city)  # type: ignore[arg-type]


@router.delete("", status_code=status.HTTP_202_ACCEPTED)
def delete_me(caller: Caller, services: Services, response: Response) -> Deleted:
    """Erase the account and everything derived from it; answer with a receipt."""
    receipt = services.rights.delete_account(caller)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=not services.settings.dev
    )
    return Deleted(receipt=receipt)  # type: ignore[arg-type]


@router.get("/export")
def export(caller: Caller, services: Services) -> dict[str, Any]:
    """Every piece of personal data about the caller, machine-readable."""
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
