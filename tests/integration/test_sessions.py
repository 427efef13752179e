from __future__ import annotations

from http.cookies import SimpleCookie

from fastapi.testclient import TestClient
from sqlalchemy import select

from mayknow.accounts.models import AuthSession
from mayknow.bootstrap import Container
from mayknow.entrypoints.api.app import create_app
from mayknow.shared.clock import FakeClock
from tests.conftest import People


def _cookie(response_header: str) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response_header)
    return jar


def _register_and_cookie(people: People, client: TestClient) -> str:
    phone = people.phone()
    response = client.post(
        "/v1/auth/register",
        json={
            "phone": phone,
            "code": people.code_for(phone),
            "nickname": "凌某",
            "accept_policy_version": people.version,
        },
    )
    assert response.status_code == 201
    return response.headers["set-cookie"]


def test_session_cookie_is_first_party_httponly_lax_and_short_lived(
    people: People, client: TestClient
) -> None:
    header = _register_and_cookie(people, client)
    morsel = _cookie(header)["mayknow_session"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "lax"
    assert morsel["path"] == "/"
    assert not morsel["domain"]  # host-only: first party
    assert 0 < int(morsel["max-age"]) <= 30 * 24 * 3600
    assert not morsel["secure"]  # development mode serves plain http


def test_session_cookie_is_secure_outside_dev(container: Container, people: People) -> None:
    container.settings = container.settings.__class__(
        **{**container.settings.__dict__, "dev": False}
    )
    with TestClient(create_app(container)) as plain:
        people.client = plain
        header = _register_and_cookie(people, plain)
    assert _cookie(header)["mayknow_session"]["secure"] is True


def test_cookie_signs_in_and_cross_site_changes_are_refused(
    people: People, client: TestClient
) -> None:
    token = _cookie(_register_and_cookie(people, client))["mayknow_session"].value
    client.cookies.set("mayknow_session", token)
    assert client.get("/v1/me").status_code == 200
    foreign = client.put(
        "/v1/me/settings",
        json={"suggestions_enabled": False},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert client.get("/v1/me/settings").json()["suggestions_enabled"] is True
    own = client.put(
        "/v1/me/settings",
        json={"suggestions_enabled": False},
        headers={"Origin": "http://testserver"},
    )
    assert own.status_code == 200


def test_logout_revokes_the_session_on_the_server(people: People, client: TestClient) -> None:
    member = people.sign_up()
    assert client.post("/v1/auth/logout", headers=member.auth).status_code == 204
    response = client.get("/v1/me", headers=member.auth)
    assert response.status_code == 401


def test_sessions_end_after_a_week_idle(
    people: People, client: TestClient, clock: FakeClock
) -> None:
    member = people.sign_up()
    clock.advance(days=6, hours=23)
    assert client.get("/v1/me", headers=member.auth).status_code == 200
    clock.advance(days=6, hours=23)  # used a week ago: still alive
    assert client.get("/v1/me", headers=member.auth).status_code == 200
    clock.advance(days=7, seconds=1)
    assert client.get("/v1/me", headers=member.auth).json()["error"]["code"] == "session_expired"


def test_sessions_end_after_thirty_days_however_active(
    people: People, client: TestClient, clock: FakeClock
) -> None:
    member = people.sign_up()
    for _ in range(29):
        clock.advance(days=1)
        assert client.get("/v1/me", headers=member.auth).status_code == 200
    clock.advance(days=1)
    assert client.get("/v1/me", headers=member.auth).status_code == 401


def test_tokens_are_stored_only_as_digests(people: People, container: Container) -> None:
    member = people.sign_up()
    with container.uow.read() as session:
        stored = session.scalars(select(AuthSession.token_hash)).all()
    assert stored
    assert all(member.token.encode() not in digest for digest in stored)


def test_sessions_are_listed_for_their_owner(people: People, client: TestClient) -> None:
    member = people.sign_up()
    listed = client.get("/v1/me/sessions", headers=member.auth).json()["sessions"]
    assert len(listed) == 1
    assert listed[0]["channel"] == "api"


def test_no_token_and_garbage_tokens_are_401(client: TestClient) -> None:
    assert client.get("/v1/me").status_code == 401
    for token in ("x", "a" * 300, "Bearer"):
        response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] in {"not_authenticated", "session_expired"}
