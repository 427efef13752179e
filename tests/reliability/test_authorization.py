"""The authorisation matrix: every endpoint x (anonymous, another member, operator without
a reason, operator) answers the right status, and no answer names the owner's number.

The endpoints come from walking the app's routes, so a new endpoint fails this test until
its expected answers are written down in ``MEMBER`` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from mayknow.bootstrap import Container
from mayknow.entrypoints.api.app import create_app
from tests.conftest import Member, People
from tests.integration.test_partners import SISTER, SISTER_URI, _pkce, _request
from tests.reliability.population import enrol
from tests.reliability.routes import Endpoint, endpoints

REASON = "ticket 2019-0209: a member asked why this suggestion appears"
CLASSES = ("anonymous", "member", "operator_without_reason", "operator")

# What a signed-in member who is not the owner gets from each API endpoint, when the
# path names the owner (a user id, their session, their request). Anonymous callers get
# 401 wherever a session is needed; operators differ only on /v1/admin (below).
MEMBER: dict[str, int] = {
    "GET /v1/policy": 200,
    "POST /v1/auth/code": 202,
    "POST /v1/auth/register": 422,  # a wrong code: invalid_code, member or not
    "POST /v1/auth/login": 422,
    "POST /v1/auth/logout": 204,
    "GET /v1/me": 200,
    "DELETE /v1/me": 202,
    "PATCH /v1/me": 200,
    "POST /v1/me/phone/code": 202,
    "PUT /v1/me/phone": 422,
    "DELETE /v1/me/city": 204,
    "DELETE /v1/me/sessions/{session_id}": 404,  # the owner's session is not the caller's
    "POST /v1/me/requests": 202,
    "GET /v1/me/requests": 200,
    "GET /v1/me/export": 200,
    "GET /v1/me/consents": 200,
    "PUT /v1/me/consents/{purpose}": 200,
    "GET /v1/me/settings": 200,
    "PUT /v1/me/settings": 200,
    "GET /v1/me/sessions": 200,
    "GET /v1/me/following": 200,
    "GET /v1/me/fans": 200,
    "GET /v1/me/mutuals": 200,
    "DELETE /v1/me/in-address-books/{user_id}": 204,  # silent whether a link existed
    "POST /v1/follows/{user_id}": 200,
    "DELETE /v1/follows/{user_id}": 204,
    "GET /v1/contacts/private/filter": 200,
    "GET /v1/contacts/private/filter/changes": 200,
    "POST /v1/contacts/private/evaluate": 403,  # consent_required: contacts_upload
    "POST /v1/contacts/private/report": 403,
    "POST /v1/contacts/sync": 403,
    "POST /v1/contacts/sync/delta": 403,
    "DELETE /v1/contacts": 204,
    "DELETE /v1/contacts/{user_id}": 404,  # no edge of the caller's points at the owner
    "GET /v1/suggestions": 200,
    "GET /v1/suggestions/{user_id}/why": 404,  # the owner is no suggestion of the caller's
    "POST /v1/suggestions/{user_id}/dismiss": 404,  # only a current suggestion
    "DELETE /v1/suggestions/{user_id}/dismiss": 404,  # nothing dismissed
    "POST /v1/blocks/{user_id}": 204,  # anyone may block anyone
    "DELETE /v1/blocks/{user_id}": 404,  # nothing blocked
    "GET /v1/admin/recall": 403,
    "GET /v1/admin/audit": 403,
    "GET /v1/admin/requests": 403,
    "POST /v1/admin/requests/{request_id}/close": 403,
    "GET /v1/oauth/authorize": 200,
    "POST /v1/oauth/authorize": 200,
    "POST /v1/oauth/token": 400,  # RFC 6749 invalid_grant: no such code
    "GET /v1/partner/me": 401,  # a member's session is no partner token
    "GET /v1/partner/contacts": 401,
    "GET /v1/me/partners": 200,
    "DELETE /v1/me/partners/{partner_id}": 204,
    "GET /v1/dev/outbox": 200,  # --dev only; see the test that it is absent without
    "GET /v1/health": 200,
}
OPERATOR = {  # an operator account with a stated reason
    "GET /v1/admin/recall": 200,
    "GET /v1/admin/audit": 200,
    "GET /v1/admin/requests": 200,
    "POST /v1/admin/requests/{request_id}/close": 200,
}
OPERATOR_WITHOUT_REASON = {  # reading anything about members needs a stated reason
    "GET /v1/admin/recall": 422,
    "GET /v1/admin/audit": 422,
    "GET /v1/admin/requests": 422,
    "POST /v1/admin/requests/{request_id}/close": 200,  # closing answers the member
}


@dataclass
class World:
    """The owner whose things the path names, and how to make callers of each class."""

    people: People
    client: TestClient
    container: Container

    def owner(self) -> tuple[Member, dict[str, str]]:
        owner = enrol(self.container, self.people.phone(), "主人")
        sessions = self.client.get("/v1/me/sessions", headers=owner.auth).json()["sessions"]
        opened = self.client.post(
            "/v1/me/requests", json={"kind": "access", "details": "副本"}, headers=owner.auth
        )
        params = {
            "user_id": str(owner.user_id),
            "session_id": sessions[0]["id"],
            "request_id": str(opened.json()["id"]),
            "purpose": "contacts_upload",
            "partner_id": SISTER,
            "name": "suggestions_enabled",
        }
        return owner, params

    def caller(self, kind: str) -> Member | None:
        if kind == "anonymous":
            return None
        someone = enrol(self.container, self.people.phone(), "来访者")
        if kind.startswith("operator"):
            self.container.operators.add(someone.user_id)
        return someone


def _body(endpoint: Endpoint, owner: Member, world: World) -> dict[str, Any]:
    """A well-formed request for each endpoint, so that what is tested is who may."""
    fresh = world.people.phone()
    bodies: dict[str, dict[str, Any]] = {
        "POST /v1/auth/code": {"phone": fresh},
        "POST /v1/auth/register": {
            "phone": fresh,
            "code": "000000",
            "nickname": "新人",
            "accept_policy_version": world.people.version,
        },
        "POST /v1/auth/login": {"phone": owner.phone, "code": "000000"},
        "PATCH /v1/me": {"nickname": "改名"},
        "POST /v1/me/phone/code": {"phone": fresh},
        "PUT /v1/me/phone": {"phone": fresh, "code": "000000"},
        "POST /v1/me/requests": {"kind": "access", "details": "请给我一份副本"},
        "PUT /v1/me/consents/{purpose}": {"granted": True},
        "PUT /v1/me/settings": {"suggestions_enabled": True},
        "POST /v1/contacts/private/evaluate": {"elements": []},
        "POST /v1/contacts/private/report": {"outputs": []},
        "POST /v1/contacts/sync": {"phones": [owner.phone]},
        "POST /v1/contacts/sync/delta": {"add": [owner.phone]},
        "POST /v1/admin/requests/{request_id}/close": {"outcome": "done"},
        "POST /v1/oauth/authorize": {**_request(_pkce()), "approve": False},
    }
    return bodies.get(endpoint.label, {})


def _query(endpoint: Endpoint, owner: Member, kind: str) -> dict[str, str]:
    reason = {"reason": REASON} if kind != "operator_without_reason" else {}
    queries: dict[str, dict[str, str]] = {
        "GET /v1/admin/recall": {
            "viewer": str(owner.user_id),
            "candidate": str(owner.user_id),
            **reason,
        },
        "GET /v1/admin/audit": reason,
        "GET /v1/admin/requests": reason,
        "GET /v1/contacts/private/filter/changes": {"since": "0"},
        "GET /v1/oauth/authorize": _request(_pkce()),
        "GET /v1/dev/outbox": {"phone": owner.phone},
    }
    return queries.get(endpoint.label, {})


def _send(
    world: World, endpoint: Endpoint, kind: str, owned: tuple[Member, dict[str, str]]
) -> tuple[Response, Member]:
    owner, params = owned
    path = endpoint.path.format(**params)
    caller = world.caller(kind)
    headers = caller.auth if caller else {}
    world.client.cookies.clear()
    if endpoint.label == "POST /v1/oauth/token":
        form = {"grant_type": "authorization_code", "code": "nothing", "client_id": SISTER}
        form |= {"redirect_uri": SISTER_URI, "code_verifier": _pkce().verifier}
        return world.client.post(path, data=form, headers=headers), owner
    response = world.client.request(
        endpoint.method,
        path,
        params=_query(endpoint, owner, kind),
        json=_body(endpoint, owner, world) or None,
        headers=headers,
        follow_redirects=False,
    )
    return response, owner


def _expected(endpoint: Endpoint, kind: str) -> int:
    if kind == "anonymous" and endpoint.guards & {"principal", "asking", "_partner_token"}:
        return 401
    table = {"operator": OPERATOR, "operator_without_reason": OPERATOR_WITHOUT_REASON}
    return table.get(kind, {}).get(endpoint.label, MEMBER[endpoint.label])


def _names_the_owner(response: Response, owner: Member) -> bool:
    national = owner.phone.removeprefix("+86")
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    return any(form in response.text for form in (owner.phone, national, spaced))


@pytest.fixture
def world(people: People, client: TestClient, container: Container) -> World:
    container.partners.add(SISTER, "多闪", [SISTER_URI], ["matched_contacts"])
    return World(people, client, container)


def test_every_api_endpoint_answers_each_caller_as_the_matrix_says(world: World) -> None:
    api = [e for e in endpoints(create_app(world.container)) if not e.page]
    unlisted = sorted({e.label for e in api} - set(MEMBER))
    assert not unlisted, f"new endpoints: write their expected answers in MEMBER: {unlisted}"
    wrong = []
    for endpoint in api:
        shared = world.owner()  # one owner per endpoint: no caller changes what it owns...
        for kind in CLASSES:
            fresh = endpoint.label in OPERATOR_WITHOUT_REASON and "close" in endpoint.label
            owned = world.owner() if fresh else shared  # ...but closing their request does
            response, owner = _send(world, endpoint, kind, owned)
            expected = _expected(endpoint, kind)
            if response.status_code != expected:
                wrong.append(f"{endpoint.label} as {kind}: {response.status_code}, not {expected}")
            if _names_the_owner(response, owner):
                wrong.append(f"{endpoint.label} as {kind} names the owner's number")
            if response.status_code >= 400 and endpoint.label != "POST /v1/oauth/token":
                assert set(response.json()) == {"error"}, endpoint.label
    print(f"authorisation matrix: {len(api)} endpoints x {len(CLASSES)} callers")
    assert not wrong, "\n".join(wrong)


def _turned_away(page: Endpoint, anonymous: Response) -> bool:
    """Members' pages send a visitor to /login; their forms do that or answer 403."""
    location = anonymous.headers.get("location", "")
    to_login = anonymous.status_code == 303 and location.startswith("/login")
    if "member" in page.guards:
        return to_login
    if "member_change" in page.guards:
        return to_login or anonymous.status_code == 403
    return anonymous.status_code < 500  # a public page or a visitor's form


def test_every_page_sends_an_anonymous_visitor_to_log_in_and_refuses_unguarded_forms(
    world: World,
) -> None:
    """The server-rendered pages: a page for members redirects a visitor without a session
    to /login, and a member's form refuses them (to /login, or 403); a member's form posted
    without its form guard (another site's form) is refused with 403."""
    pages = [e for e in endpoints(create_app(world.container)) if e.page]
    wrong = []
    for page in pages:
        owner, params = world.owner()
        path = page.path.format(**params)
        world.client.cookies.clear()
        anonymous = world.client.request(page.method, path, follow_redirects=False)
        if not _turned_away(page, anonymous):
            wrong.append(f"{page.label} anonymous: {anonymous.status_code}")
        if "member_change" in page.guards:
            caller = world.caller("member")
            assert caller is not None
            forged = world.client.request(
                page.method, path, headers=caller.auth, data={}, follow_redirects=False
            )
            if forged.status_code != 403:
                wrong.append(f"{page.label} without its form guard: {forged.status_code}")
        if _names_the_owner(anonymous, owner):
            wrong.append(f"{page.label} names the owner's number")
    print(f"pages: {len(pages)} checked")
    assert pages
    assert not wrong, "\n".join(wrong)
