"""No answer tells someone who may not know whether a phone number is registered: the
code request, a log-in or registration with a wrong code, a sync, private discovery and a
change of number answer a member's number exactly as they answer a stranger's. (Only the
holder of the number, who receives its code, learns that it already has an account.)"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from mayknow import bootstrap, config
from mayknow.accounts.sms import OutboxSender
from mayknow.bootstrap import Container
from mayknow.contacts.cuckoo import CuckooFilter, tag_of
from mayknow.entrypoints.api.app import create_app
from mayknow.identity import oprf
from mayknow.shared.clock import FakeClock
from tests.conftest import Member, People, grant

STRANGER = "+8613700009999"
VOLATILE_HEADERS = {"date", "content-length"}


def _answer(response: Response) -> tuple[int, Any, list[str]]:
    """What an outsider sees: the status, the body and which headers came back."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body.pop("quota_remaining", None)  # each call spends a permit: not an answer
    headers = sorted(h for h in response.headers if h not in VOLATILE_HEADERS)
    return response.status_code, body, headers


@pytest.fixture
def hidden(people: People, client: TestClient) -> Member:
    """A member who has not agreed to be found by number."""
    return people.sign_up("隐身")


@pytest.fixture
def asker(people: People, client: TestClient) -> Member:
    someone = people.sign_up("好奇")
    grant(client, someone, "contacts_upload")
    return someone


def _both(people: People, ask: Any, member: Member) -> None:
    for tries in range(2):  # the first answer and the one after it
        people.clock.advance(seconds=61)
        assert _answer(ask(member.phone)) == _answer(ask(STRANGER)), tries


def test_the_code_request_answers_members_and_strangers_alike(
    people: People, client: TestClient, hidden: Member
) -> None:
    _both(people, lambda phone: client.post("/v1/auth/code", json={"phone": phone}), hidden)
    again = [client.post("/v1/auth/code", json={"phone": p}) for p in (hidden.phone, STRANGER)]
    assert [r.status_code for r in again] == [429, 429]  # within the minute, alike too
    assert _answer(again[0]) == _answer(again[1])


@pytest.mark.parametrize("code_sent", [True, False])
def test_a_wrong_code_answers_members_and_strangers_alike(
    people: People, client: TestClient, hidden: Member, code_sent: bool
) -> None:
    def log_in(phone: str) -> Response:
        if code_sent:
            client.post("/v1/auth/code", json={"phone": phone})
        return client.post("/v1/auth/login", json={"phone": phone, "code": "000000"})

    def register(phone: str) -> Response:
        if code_sent:
            client.post("/v1/auth/code", json={"phone": phone})
        body = {"phone": phone, "code": "000000", "nickname": "冒名"}
        return client.post("/v1/auth/register", json=body | {"accept_policy_version": "1"})

    def register_current(phone: str) -> Response:
        if code_sent:
            client.post("/v1/auth/code", json={"phone": phone})
        body = {"phone": phone, "code": "000000", "nickname": "冒名"}
        version = {"accept_policy_version": people.version}
        return client.post("/v1/auth/register", json=body | version)

    for ask in (log_in, register, register_current):
        _both(people, ask, hidden)


def test_a_sync_answers_a_hidden_members_number_as_a_strangers(
    people: People, client: TestClient, hidden: Member, asker: Member
) -> None:
    def sync(phone: str) -> Response:
        return client.post("/v1/contacts/sync", json={"phones": [phone]}, headers=asker.auth)

    _both(people, sync, hidden)
    assert sync(hidden.phone).json()["matched"] == []
    grant(client, hidden, "discoverable_by_phone")  # ...and once found, found by consent
    assert sync(hidden.phone).json()["matched"][0]["user_id"] == hidden.user_id


def _output(client: TestClient, asker: Member, phone: str) -> bytes:
    blind, element = oprf.blind(phone.encode())
    response = client.post(
        "/v1/contacts/private/evaluate",
        json={"elements": [base64.b64encode(element).decode()]},
        headers=asker.auth,
    )
    evaluated = base64.b64decode(response.json()["evaluated"][0])
    return oprf.finalize(phone.encode(), blind, evaluated)


def test_private_discovery_answers_a_hidden_members_number_as_a_strangers(
    people: People, client: TestClient, hidden: Member, asker: Member
) -> None:
    cuckoo = client.get("/v1/contacts/private/filter", headers=asker.auth).content
    outputs = {phone: _output(client, asker, phone) for phone in (hidden.phone, STRANGER)}
    assert not any(tag_of(out) in CuckooFilter.from_bytes(cuckoo) for out in outputs.values())

    def report(phone: str) -> Response:
        encoded = base64.b64encode(outputs[phone]).decode()
        body = {"outputs": [encoded], "replace": False}
        return client.post("/v1/contacts/private/report", json=body, headers=asker.auth)

    _both(people, report, hidden)
    assert report(hidden.phone).json()["unmatched"] == 1


def test_changing_number_answers_a_taken_number_as_a_free_one(
    people: People, client: TestClient, hidden: Member, asker: Member
) -> None:
    def ask_code(phone: str) -> Response:
        return client.post("/v1/me/phone/code", json={"phone": phone}, headers=asker.auth)

    def move(phone: str) -> Response:
        ask_code(phone)
        return client.put(
            "/v1/me/phone", json={"phone": phone, "code": "000000"}, headers=asker.auth
        )

    _both(people, ask_code, hidden)
    _both(people, move, hidden)


def test_the_development_outbox_does_not_exist_without_dev(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    clock: FakeClock,
    container: Container,
    people: People,
) -> None:
    member = people.sign_up()
    settings = config.Settings(data_dir=tmp_path / "prod", db=database_url, dev=False)
    production = bootstrap.build(
        settings, clock=clock, sms=OutboxSender(), engine=engine, migrate=False
    )
    app = create_app(production)
    assert not any(path.startswith("/v1/dev") for path in app.openapi()["paths"])
    with TestClient(app) as outside:
        for headers in ({}, member.auth):
            answer = outside.get("/v1/dev/outbox", params={"phone": member.phone}, headers=headers)
            assert answer.status_code == 404
            assert member.phone[3:] not in answer.text
