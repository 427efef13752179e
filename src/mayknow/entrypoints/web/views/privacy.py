"""The privacy centre: every consent with its history and a switch, the settings, the
export, deleting single items or the whole account, and the active sessions."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Form, Response

from mayknow.consent.domain import Purpose, Setting
from mayknow.consent.service import parse_purpose
from mayknow.entrypoints.api.deps import parse_user_id
from mayknow.entrypoints.web.pages import Member, MemberChange, Web
from mayknow.entrypoints.web.texts import PURPOSES, SETTINGS
from mayknow.entrypoints.web.views import page_router
from mayknow.entrypoints.web.views.account import signed_out
from mayknow.entrypoints.web.views.onboarding import observe_city

router = page_router()

Flag = Annotated[str, Form(max_length=8)]
Next = Annotated[str, Form(max_length=32)]
BACK = {"/privacy", "/contacts", "/follow", "/profile", "/welcome"}


def _ids(export: dict[str, Any], key: str) -> list[int]:
    return [int(item["user_id"]) for item in export.get(key) or []]


def _names(web: Web, export: dict[str, Any]) -> dict[int, str]:
    keys = ("address_book_matches", "following", "fans", "dismissed_suggestions", "blocked")
    ids = sorted({i for key in keys for i in _ids(export, key)})
    with web.services.uow.read() as session:
        return web.services.accounts.nicknames(session, ids)


@router.get("/privacy")
def centre(web: Member) -> Response:
    export = web.services.rights.export(web.caller)
    return web.render(
        "privacy.html",
        export=export,
        names=_names(web, export),
        purposes=[PURPOSES[p] for p in Purpose],
        settings=[(s.value, *SETTINGS[s]) for s in Setting],
        profile=web.services.accounts.profile(web.caller),
    )


@router.post("/privacy/consents/{purpose}")
def switch_consent(
    web: MemberChange, purpose: str, granted: Flag = "", next: Next = "/privacy"
) -> Response:
    chosen = parse_purpose(purpose)
    on = granted == "true"
    web.services.consent.change(web.caller.user_id, web.caller.subject_ref, chosen, on, "web")
    if chosen is Purpose.LOCATION_CITY and on:
        observe_city(web)
    return web.redirect(next if next in BACK else "/privacy")


@router.post("/privacy/settings/{name}")
def switch_setting(web: MemberChange, name: str, value: Flag = "") -> Response:
    web.services.consent.update_settings(
        web.caller.user_id, web.caller.subject_ref, {name: value == "true"}
    )
    return web.redirect("/privacy")


@router.get("/privacy/export.json")
def export_json(web: Member) -> Response:
    document = web.services.rights.export(web.caller)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={"content-disposition": 'attachment; filename="mayknow-export.json"'},
    )


@router.get("/privacy/export.html")
def export_html(web: Member) -> Response:
    return Response(
        web.services.rights.export_html(web.caller, web.lang),
        media_type="text/html; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="mayknow-export.html"'},
    )


@router.post("/privacy/following/{user_id}/delete")
def unfollow(web: MemberChange, user_id: str) -> Response:
    web.services.graph.unfollow(web.caller.user_id, parse_user_id(user_id))
    return web.redirect("/privacy")


@router.post("/privacy/dismissed/{user_id}/delete")
def undismiss(web: MemberChange, user_id: str) -> Response:
    web.services.suggestions.undismiss(web.caller, parse_user_id(user_id))
    return web.redirect("/privacy")


@router.post("/privacy/blocked/{user_id}/delete")
def unblock(web: MemberChange, user_id: str) -> Response:
    web.services.suggestions.unblock(web.caller, parse_user_id(user_id))
    return web.redirect("/privacy")


@router.post("/privacy/sessions/{session_id}/delete")
def sign_out(web: MemberChange, session_id: str) -> Response:
    web.services.accounts.sign_out(web.caller, session_id)
    return web.redirect("/privacy")


@router.get("/privacy/delete")
def confirm_deletion(web: Member) -> Response:
    return web.render("delete.html")


@router.post("/privacy/delete")
def delete_account(web: MemberChange) -> Response:
    """Erase the account; the receipt says what kinds and how many, never the values."""
    receipt = web.services.rights.delete_account(web.caller)
    web.member = None
    return signed_out(web, web.render("deleted.html", receipt=receipt))
