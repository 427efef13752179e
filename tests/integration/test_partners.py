"""H9: a partner app (the sister app) logs members in with OAuth 2.0 code + PKCE, gets
nothing beyond the public profile without a separate consent per recipient, and every
provision leaves a record the member sees. Partners and people here are fictional."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from typer.testing import CliRunner

from mayknow.bootstrap import Container
from mayknow.entrypoints.cli import app
from mayknow.partners.models import EgressRecord, PartnerCode, PartnerGrant, PartnerToken
from mayknow.shared.clock import FakeClock
from tests.conftest import Member, People, grant

SISTER = "duoshan"
SISTER_URI = "com.example.duoshan:/oauth/callback"
OTHER = "kuaikan"
OTHER_URI = "https://kuaikan.example/callback"
BOTH = "profile matched_contacts"


@pytest.fixture
def partners(container: Container) -> None:
    container.partners.add(SISTER, "多闪", [SISTER_URI], ["matched_contacts"])
    container.partners.add(OTHER, "快看", [OTHER_URI], ["matched_contacts"])


@dataclass
class Pkce:
    verifier: str

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _pkce() -> Pkce:
    return Pkce(secrets.token_urlsafe(48))


def _request(pkce: Pkce, client_id: str = SISTER, scope: str = BOTH) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": SISTER_URI if client_id == SISTER else OTHER_URI,
        "scope": scope,
        "state": "st-42",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }


def _decide(
    client: TestClient,
    member: Member,
    params: dict[str, str],
    approve: bool = True,
    **extra: object,
) -> Response:
    body = {**params, "approve": approve, **extra}
    return client.post("/v1/oauth/authorize", json=body, headers=member.auth)


def _code(client: TestClient, member: Member, pkce: Pkce, **options: object) -> str:
    client_id = str(options.pop("client_id", SISTER))
    response = _decide(client, member, _request(pkce, client_id), **options)
    assert response.status_code == 200, response.text
    query = parse_qs(urlsplit(response.json()["redirect_to"]).query)
    assert query["state"] == ["st-42"]
    return query["code"][0]


def _exchange(
    client: TestClient, code: str, pkce: Pkce, client_id: str = SISTER, redirect: str = SISTER_URI
) -> Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": client_id,
        "code_verifier": pkce.verifier,
    }
    return client.post("/v1/oauth/token", data=form)


def _log_in(client: TestClient, member: Member, client_id: str = SISTER, **options: object) -> str:
    """The whole flow; answers the partner's access token."""
    pkce = _pkce()
    code = _code(client, member, pkce, client_id=client_id, **options)
    redirect = SISTER_URI if client_id == SISTER else OTHER_URI
    response = _exchange(client, code, pkce, client_id, redirect)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _as_partner(client: TestClient, token: str, what: str) -> Response:
    return client.get(f"/v1/partner/{what}", headers={"Authorization": f"Bearer {token}"})


def _with_a_matched_contact(people: People, client: TestClient) -> tuple[Member, Member]:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    grant(client, hu, "discoverable_by_phone")
    grant(client, ling, "contacts_upload")
    synced = client.post("/v1/contacts/sync", json={"phones": [hu.phone]}, headers=ling.auth)
    assert synced.json()["matched"][0]["user_id"] == hu.user_id
    return ling, hu


def _count(container: Container, model: type[object]) -> int:
    with container.uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _rows(container: Container) -> dict[str, int]:
    tables = (PartnerCode, PartnerToken, PartnerGrant, EgressRecord)
    return {t.__tablename__: _count(container, t) for t in tables}


# -- the flow ---------------------------------------------------------------------------
def test_log_in_with_mayknow_runs_the_pkce_code_flow_end_to_end(
    people: People, client: TestClient, partners: None
) -> None:
    ling = people.sign_up("凌某")
    pkce = _pkce()
    screen = client.get("/v1/oauth/authorize", params=_request(pkce), headers=ling.auth)
    assert screen.status_code == 200, screen.text
    assert screen.json() == {
        "client_id": SISTER,
        "partner_name": "多闪",
        "redirect_uri": SISTER_URI,
        "state": "st-42",
        "public_profile": ["sub", "nickname", "avatar"],
        "requested": ["matched_contacts"],
        "already_granted": [],
        "share_with_partner_apps": False,
    }
    decided = _decide(client, ling, _request(pkce))
    target = decided.json()["redirect_to"]
    assert target.startswith(SISTER_URI + "?")
    code = parse_qs(urlsplit(target).query)["code"][0]
    issued = _exchange(client, code, pkce)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "profile"
    assert issued.headers["cache-control"] == "no-store"
    me = _as_partner(client, body["access_token"], "me").json()
    assert me == {"sub": me["sub"], "nickname": "凌某", "avatar": None}
    assert str(ling.user_id) not in me["sub"]


def test_each_partner_knows_a_member_by_its_own_identifier(
    people: People, client: TestClient, partners: None
) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")

    def sub(member: Member, client_id: str) -> str:
        return str(_as_partner(client, _log_in(client, member, client_id), "me").json()["sub"])

    first = sub(ling, SISTER)
    assert sub(ling, SISTER) == first  # stable for one partner, across logins
    assert sub(ling, OTHER) != first  # two partners cannot join their users on it
    assert sub(hu, SISTER) not in (first, sub(ling, OTHER))


def test_no_log_line_holds_a_code_or_a_token(
    people: People, client: TestClient, partners: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ling = people.sign_up()
    pkce = _pkce()
    code = _code(client, ling, pkce)
    token = _exchange(client, code, pkce).json()["access_token"]
    _as_partner(client, token, "me")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Issue token" in logged  # Authlib did log the issue...
    for secret in (code, token, pkce.verifier):
        assert secret not in logged  # ...without the secret


def test_the_consent_screen_needs_a_signed_in_member(client: TestClient, partners: None) -> None:
    response = client.get("/v1/oauth/authorize", params=_request(_pkce()))
    assert response.status_code == 401


def test_a_partner_receiving_nothing_but_the_public_profile_without_the_separate_consent(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling, _ = _with_a_matched_contact(people, client)
    token = _log_in(client, ling)
    assert _as_partner(client, token, "me").status_code == 200
    refused = _as_partner(client, token, "contacts")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent_required"
    # Ticking the category does not help while share_with_partner_apps is not granted.
    ticked = _decide(client, ling, _request(_pkce()), share=["matched_contacts"])
    assert ticked.status_code == 403
    assert ticked.json()["error"]["field"] == "share_with_partner_apps"
    assert _rows(container)["partner_grants"] == 0
    ledger = client.get("/v1/me/partners", headers=ling.auth).json()["egress"]
    assert [(e["partner_id"], e["categories"], e["count"]) for e in ledger] == [
        (SISTER, ["profile"], 1)
    ]


def test_the_global_consent_without_this_partners_grant_is_refused(
    people: People, client: TestClient, partners: None
) -> None:
    ling, _ = _with_a_matched_contact(people, client)
    grant(client, ling, "share_with_partner_apps")
    granted_other = _log_in(client, ling, client_id=OTHER, share=["matched_contacts"])
    assert _as_partner(client, granted_other, "contacts").status_code == 200
    sister = _log_in(client, ling)  # the member ticked nothing for this partner
    refused = _as_partner(client, sister, "contacts")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent_required"


def test_with_both_consents_the_partner_gets_the_matched_contacts_and_the_export_shows_it(
    people: People, client: TestClient, partners: None
) -> None:
    ling, hu = _with_a_matched_contact(people, client)
    grant(client, ling, "share_with_partner_apps")
    grant(client, hu, "share_with_partner_apps")  # the contact lets this partner see them too
    hu_token = _log_in(client, hu, share=["matched_contacts"])
    hu_sub = _as_partner(client, hu_token, "me").json()["sub"]
    token = _log_in(client, ling, share=["matched_contacts"])
    contacts = _as_partner(client, token, "contacts")
    assert contacts.status_code == 200, contacts.text
    assert contacts.json() == {"contacts": [{"sub": hu_sub, "nickname": "胡子"}]}
    screen = client.get("/v1/oauth/authorize", params=_request(_pkce()), headers=ling.auth)
    assert screen.json()["already_granted"] == ["matched_contacts"]
    assert screen.json()["share_with_partner_apps"] is True
    export = client.get("/v1/me/export", headers=ling.auth).json()
    assert [(g["partner_id"], g["categories"]) for g in export["partner_grants"]] == [
        (SISTER, ["matched_contacts"])
    ]
    assert [(e["partner_name"], e["categories"], e["count"]) for e in export["partner_egress"]] == [
        ("多闪", ["matched_contacts"], 1)
    ]
    audited = [e for e in export["audit_events"] if e["action"] == "partner_grant"]
    assert audited == [
        {
            "at": audited[0]["at"],
            "action": "partner_grant",
            "details": {"partner": SISTER, "categories": ["matched_contacts"]},
        }
    ]
    assert "胡子" not in str(export["audit_events"])


def test_a_grant_covers_only_the_partner_it_names(
    people: People, client: TestClient, partners: None
) -> None:
    ling, _ = _with_a_matched_contact(people, client)
    grant(client, ling, "share_with_partner_apps")
    _log_in(client, ling, share=["matched_contacts"])
    other = _log_in(client, ling, client_id=OTHER)
    assert _as_partner(client, other, "contacts").status_code == 403
    grants = client.get("/v1/me/partners", headers=ling.auth).json()["grants"]
    assert [(g["partner_id"], g["categories"]) for g in grants] == [(SISTER, ["matched_contacts"])]


# -- revocation -------------------------------------------------------------------------
def test_revoking_a_partner_refuses_its_next_call_at_once(
    people: People, client: TestClient, partners: None
) -> None:
    ling, _ = _with_a_matched_contact(people, client)
    grant(client, ling, "share_with_partner_apps")
    token = _log_in(client, ling, share=["matched_contacts"])
    other = _log_in(client, ling, client_id=OTHER)
    assert _as_partner(client, token, "contacts").status_code == 200
    revoked = client.delete(f"/v1/me/partners/{SISTER}", headers=ling.auth)
    assert revoked.status_code == 204
    for what in ("contacts", "me"):
        refused = _as_partner(client, token, what)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert _as_partner(client, other, "me").status_code == 200  # only that partner
    assert client.get("/v1/me/partners", headers=ling.auth).json()["grants"] == []
    unknown = client.delete("/v1/me/partners/nobody", headers=ling.auth)
    assert unknown.status_code == 404


def test_withdrawing_share_with_partner_apps_ends_every_partner_grant_and_token(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling, _ = _with_a_matched_contact(people, client)
    grant(client, ling, "share_with_partner_apps")
    tokens = [
        _log_in(client, ling, share=["matched_contacts"]),
        _log_in(client, ling, client_id=OTHER, share=["matched_contacts"]),
    ]
    for token in tokens:
        assert _as_partner(client, token, "contacts").status_code == 200
    grant(client, ling, "share_with_partner_apps", granted=False)
    for token in tokens:
        assert _as_partner(client, token, "contacts").status_code == 401
    assert _rows(container)["partner_tokens"] == 0
    export = client.get("/v1/me/export", headers=ling.auth).json()
    assert all(g["revoked_at"] for g in export["partner_grants"])
    assert len(export["partner_egress"]) == 2  # the record of what was provided stays


# -- bad input: each a clear 4xx, nothing changed ------------------------------------------
def test_an_unknown_client_id_is_refused_without_a_redirect(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling = people.sign_up()
    params = {**_request(_pkce()), "client_id": "not-registered"}
    screen = client.get("/v1/oauth/authorize", params=params, headers=ling.auth)
    assert screen.status_code == 400
    assert screen.json()["error"]["code"] == "invalid_client"
    decided = _decide(client, ling, params)
    assert decided.status_code == 400
    assert "redirect_to" not in decided.json()
    token = _exchange(client, "some-code", _pkce(), client_id="not-registered")
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"
    assert _rows(container) == dict.fromkeys(_rows(container), 0)


def test_a_redirect_uri_not_registered_is_answered_in_json_and_never_redirected_to(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling = people.sign_up()
    for uri in ("https://evil.example/cb", SISTER_URI + "/more", OTHER_URI):
        params = {**_request(_pkce()), "redirect_uri": uri}
        for response in (
            client.get("/v1/oauth/authorize", params=params, headers=ling.auth),
            _decide(client, ling, params),
            _decide(client, ling, params, approve=False),
        ):
            assert response.status_code == 400, uri
            assert response.json()["error"]["code"] == "invalid_request"
            assert "redirect_to" not in response.json()
            assert "location" not in response.headers
            assert uri not in response.text
    assert _rows(container)["partner_codes"] == 0


def test_a_pkce_mismatch_is_refused_and_the_code_still_waits_for_its_verifier(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling = people.sign_up()
    pkce = _pkce()
    code = _code(client, ling, pkce)
    refused = _exchange(client, code, _pkce())
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert set(refused.json()) == {"error", "error_description"}
    assert _rows(container)["partner_tokens"] == 0
    assert _exchange(client, code, pkce).status_code == 200


def test_a_replayed_code_is_refused_and_revokes_the_token_it_issued(
    people: People, client: TestClient, partners: None
) -> None:
    ling = people.sign_up()
    pkce = _pkce()
    code = _code(client, ling, pkce)
    first = _exchange(client, code, pkce)
    token = first.json()["access_token"]
    assert _as_partner(client, token, "me").status_code == 200
    replayed = _exchange(client, code, pkce)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    assert _as_partner(client, token, "me").status_code == 401  # RFC 6749 §4.1.2


def test_an_expired_code_is_refused(
    people: People, client: TestClient, clock: FakeClock, partners: None
) -> None:
    ling = people.sign_up()
    pkce = _pkce()
    code = _code(client, ling, pkce)
    clock.advance(seconds=61)
    refused = _exchange(client, code, pkce)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_a_code_stolen_by_another_partner_is_refused(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling = people.sign_up()
    pkce = _pkce()
    code = _code(client, ling, pkce)
    for redirect in (OTHER_URI, SISTER_URI):
        stolen = _exchange(client, code, pkce, client_id=OTHER, redirect=redirect)
        assert stolen.status_code == 400
        assert stolen.json()["error"] == "invalid_grant"
    assert _rows(container)["partner_tokens"] == 0
    wrong_uri = _exchange(client, code, pkce, redirect=SISTER_URI + "x")
    assert wrong_uri.json()["error"] == "invalid_grant"
    assert _exchange(client, code, pkce).status_code == 200


def test_plain_or_missing_pkce_is_refused(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling = people.sign_up()
    pkce = _pkce()
    plain = {**_request(pkce), "code_challenge": pkce.verifier, "code_challenge_method": "plain"}
    no_method = {k: v for k, v in _request(pkce).items() if k != "code_challenge_method"}
    no_pkce = {k: v for k, v in no_method.items() if k != "code_challenge"}
    for params in (plain, no_method, no_pkce):
        screen = client.get("/v1/oauth/authorize", params=params, headers=ling.auth)
        assert screen.status_code == 400
        assert screen.json()["error"]["code"] == "invalid_request"
        assert _decide(client, ling, params).status_code == 400
    assert _rows(container)["partner_codes"] == 0


def test_a_scope_the_partner_was_not_registered_for_is_refused(
    people: People, client: TestClient, container: Container
) -> None:
    container.partners.add(SISTER, "多闪", [SISTER_URI], [])
    ling = people.sign_up()
    response = client.get(
        "/v1/oauth/authorize", params=_request(_pkce(), scope=BOTH), headers=ling.auth
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_scope"


def test_sharing_a_category_the_partner_did_not_ask_for_is_refused(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling = people.sign_up()
    grant(client, ling, "share_with_partner_apps")
    params = _request(_pkce(), scope="profile")
    response = _decide(client, ling, params, share=["matched_contacts"])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_share"
    assert _rows(container)["partner_grants"] == 0


def test_declining_redirects_with_access_denied_and_issues_nothing(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling = people.sign_up()
    response = _decide(client, ling, _request(_pkce()), approve=False)
    query = parse_qs(urlsplit(response.json()["redirect_to"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st-42"]
    assert "code" not in query
    assert _rows(container) == dict.fromkeys(_rows(container), 0)


def test_a_token_request_without_a_verifier_or_with_another_grant_type_is_refused(
    people: People, client: TestClient, partners: None
) -> None:
    ling = people.sign_up()
    pkce = _pkce()
    code = _code(client, ling, pkce)
    form = {"grant_type": "authorization_code", "code": code, "client_id": SISTER}
    missing = client.post("/v1/oauth/token", data={**form, "redirect_uri": SISTER_URI})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    other = client.post("/v1/oauth/token", data={**form, "grant_type": "password"})
    assert other.json()["error"] == "unsupported_grant_type"
    assert _exchange(client, code, pkce).status_code == 200


def test_an_unknown_token_is_refused(client: TestClient) -> None:
    assert _as_partner(client, "made-up", "me").status_code == 401
    assert client.get("/v1/partner/me").status_code == 401


# -- the member's rights --------------------------------------------------------------------
def test_deleting_the_account_erases_grants_tokens_and_ledger(
    people: People, client: TestClient, container: Container, partners: None
) -> None:
    ling, _ = _with_a_matched_contact(people, client)
    grant(client, ling, "share_with_partner_apps")
    token = _log_in(client, ling, share=["matched_contacts"])
    _as_partner(client, token, "contacts")
    _as_partner(client, token, "me")
    erased = client.delete("/v1/me", headers=ling.auth).json()["receipt"]["erased"]
    assert erased["partner_grants"] == 1
    assert erased["partner_tokens"] == 1
    assert erased["partner_codes"] == 1
    assert erased["partner_egress"] == 2
    assert _rows(container) == dict.fromkeys(_rows(container), 0)
    assert _as_partner(client, token, "me").status_code == 401
    assert container.verify_audit().ok


def test_expired_tokens_and_spent_codes_are_purged(
    people: People, client: TestClient, container: Container, clock: FakeClock, partners: None
) -> None:
    ling = people.sign_up()
    token = _log_in(client, ling)
    with container.uow.write() as session:
        assert container.partners.purge_expired(session, clock.now()) == {
            "partner_tokens": 0,
            "partner_codes": 0,
        }
    clock.advance(hours=1, seconds=61)
    assert _as_partner(client, token, "me").status_code == 401
    with container.uow.write() as session:
        assert container.partners.purge_expired(session, clock.now()) == {
            "partner_tokens": 1,
            "partner_codes": 1,
        }


def test_partners_add_registers_a_partner_from_the_command_line(
    people: People, client: TestClient, container: Container
) -> None:
    common = [
        "--db",
        container.settings.database_url,
        "--data-dir",
        str(container.settings.data_dir),
    ]
    args = ["partners", "add", "--id", SISTER, "--name", "多闪", "--redirect-uri", SISTER_URI]
    added = CliRunner().invoke(app, [*args, "--category", "matched_contacts", *common])
    assert added.exit_code == 0, added.output
    again = CliRunner().invoke(app, [*args, *common])
    assert again.exit_code != 0
    bad = [
        "partners",
        "add",
        "--id",
        OTHER,
        "--name",
        "快看",
        "--redirect-uri",
        "http://x.example/",
    ]
    assert CliRunner().invoke(app, [*bad, *common]).exit_code != 0
    ling = people.sign_up()
    screen = client.get("/v1/oauth/authorize", params=_request(_pkce()), headers=ling.auth)
    assert screen.json()["partner_name"] == "多闪"


def test_a_contact_reaches_a_partner_only_under_their_own_grant_to_it(
    people: People, client: TestClient, partners: None
) -> None:
    ling, hu = _with_a_matched_contact(people, client)
    grant(client, ling, "share_with_partner_apps")
    token = _log_in(client, ling, share=["matched_contacts"])

    def listed() -> list[object]:
        answer = _as_partner(client, token, "contacts")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["contacts"])

    assert listed() == []  # 胡子 never dealt with this partner
    grant(client, hu, "share_with_partner_apps")
    _log_in(client, hu, client_id=OTHER, share=["matched_contacts"])
    assert listed() == []  # a grant to another partner is not one to this partner
    _log_in(client, hu)  # logged in to this partner, sharing nothing with it
    assert listed() == []
    _log_in(client, hu, share=["matched_contacts"])
    assert [c["nickname"] for c in listed()] == ["胡子"]  # type: ignore[index]
    grant(client, hu, "share_with_partner_apps", granted=False)
    assert listed() == []  # withdrawn: at once
    ledger = client.get("/v1/me/partners", headers=ling.auth).json()["egress"]
    counts = [e["count"] for e in ledger if e["categories"] == ["matched_contacts"]]
    assert counts == [0, 1, 0, 0, 0]  # newest first: each provision, even of nobody
