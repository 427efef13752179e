"""The address book: the browser reads a vCard or CSV file or pasted numbers, keeps the
names in its own storage and sends only numbers (or, in private mode, only blinded
elements) to the JSON API. Without a script, pasted numbers can be sent by a plain form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Response

from mayknow.consent.domain import Purpose
from mayknow.contacts.service import SyncResult
from mayknow.entrypoints.api.deps import parse_user_id
from mayknow.entrypoints.web.assets import IMPORT_MAP
from mayknow.entrypoints.web.pages import Member, MemberChange, Web
from mayknow.entrypoints.web.views import page_router

router = page_router()


def _page(web: Web, result: SyncResult | None = None) -> Response:
    services, uid = web.services, web.caller.user_id
    with services.uow.read() as session:
        allowed = services.consent.allows_in(session, uid, Purpose.CONTACTS_UPLOAD)
        matched = services.contacts.contacts_of(session, uid)
        names = services.accounts.nicknames(session, matched)
    return web.render(
        "contacts.html",
        allowed=allowed,
        matches=[{"user_id": i, "nickname": names[i]} for i in matched if i in names],
        result=result,
        import_map=IMPORT_MAP,
        limit=services.settings.max_numbers_per_sync,
    )


@router.get("/contacts")
def address_book(web: Member) -> Response:
    return _page(web)


@router.post("/contacts/sync")
def sync_pasted(
    web: MemberChange, numbers: Annotated[str, Form(max_length=400_000)] = ""
) -> Response:
    """The no-script path: one number per line; nothing else is read from the lines."""
    phones = [line.strip() for line in numbers.splitlines() if line.strip()]
    return _page(web, web.services.contacts.sync(web.caller, phones, None))


@router.post("/contacts/delete")
def delete_all(web: MemberChange, next: Annotated[str, Form()] = "/contacts") -> Response:
    web.services.contacts.delete_all(web.caller)
    return web.redirect("/privacy" if next == "/privacy" else "/contacts")


@router.post("/contacts/{user_id}/delete")
def delete_one(
    web: MemberChange, user_id: str, next: Annotated[str, Form()] = "/contacts"
) -> Response:
    web.services.contacts.delete_one(web.caller, parse_user_id(user_id))
    return web.redirect("/privacy" if next == "/privacy" else "/contacts")
