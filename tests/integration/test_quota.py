"""Enumeration quota: permits for new numbers, a client-held token for the old ones."""

from __future__ import annotations

import base64
import secrets

import pytest
from fastapi.testclient import TestClient

from mayknow.bootstrap import Container
from mayknow.contacts.domain import Bucket
from mayknow.contacts.service import SyncLimits
from mayknow.shared.clock import FakeClock
from tests.conftest import Member, People, grant

BOOK = [f"+86137000010{i:02d}" for i in range(5)]


@pytest.fixture
def uploader(people: People, client: TestClient, container: Container) -> Member:
    container.contacts.limits = SyncLimits(max_numbers=10_000, quota=Bucket(5, 6))
    member = people.sign_up()
    grant(client, member, "contacts_upload")
    return member


def _sync(
    client: TestClient,
    member: Member,
    phones: list[str],
    secret: str | None = None,
    previous: list[str] | None = None,
) -> tuple[int, dict[str, object], str | None]:
    body: dict[str, object] = {"phones": phones}
    if secret is not None:
        body["quota"] = {"secret": secret, "previous": previous or []}
    response = client.post("/v1/contacts/sync", json=body, headers=member.auth)
    return response.status_code, response.json(), response.headers.get("Retry-After")


def test_new_numbers_spend_permits_until_none_are_left(
    uploader: Member, client: TestClient
) -> None:
    status, body, _ = _sync(client, uploader, BOOK)
    assert (status, body["quota_remaining"]) == (200, 0)
    status, body, retry = _sync(client, uploader, ["+8613700002000"])
    assert status == 429
    assert body["error"]["code"] == "quota_exceeded"  # type: ignore[index]
    assert retry is not None
    assert 600 <= int(retry) <= 601


def test_past_the_quota_nothing_is_applied(
    uploader: Member, people: People, client: TestClient
) -> None:
    friend = people.sign_up()
    grant(client, friend, "discoverable_by_phone")
    _sync(client, uploader, [friend.phone])
    status, _, _ = _sync(client, uploader, [*BOOK, "+8613700002001"])
    assert status == 429
    export = client.get("/v1/me/export", headers=uploader.auth).json()
    assert [e["user_id"] for e in export["address_book_matches"]] == [friend.user_id]


def test_the_previous_set_is_free_with_the_clients_token(
    uploader: Member, client: TestClient
) -> None:
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    assert _sync(client, uploader, BOOK, secret)[0] == 200
    status, body, _ = _sync(client, uploader, BOOK, secret, previous=BOOK)
    assert (status, body["quota_remaining"]) == (200, 0)
    status, _, _ = _sync(client, uploader, [*BOOK, "+8613700002002"], secret, previous=BOOK)
    assert status == 429  # only the new one counts, and none is left


def test_a_wrong_secret_or_set_proves_nothing(
    uploader: Member, client: TestClient, clock: FakeClock
) -> None:
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    other = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    _sync(client, uploader, BOOK[:2], secret)
    clock.advance(minutes=30)  # three permits back: 3 + 3 = 6 > 5 at most
    assert _sync(client, uploader, BOOK[:2], other, previous=BOOK[:2])[1]["quota_remaining"] == 3
    assert _sync(client, uploader, BOOK[:2], secret, previous=BOOK[:3])[1]["quota_remaining"] == 1


def test_permits_come_back_six_an_hour(
    uploader: Member, client: TestClient, clock: FakeClock
) -> None:
    _sync(client, uploader, BOOK)
    clock.advance(minutes=10)
    status, body, _ = _sync(client, uploader, ["+8613700002003"])
    assert (status, body["quota_remaining"]) == (200, 0)


def test_a_malformed_secret_is_refused(uploader: Member, client: TestClient) -> None:
    status, body, _ = _sync(client, uploader, BOOK, "too-short")
    assert status == 422
    assert body["error"]["field"] == "quota.secret"  # type: ignore[index]
