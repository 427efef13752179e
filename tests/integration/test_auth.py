from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mayknow.accounts.models import LoginCode, User
from mayknow.accounts.sms import OutboxSender
from mayknow.bootstrap import Container
from mayknow.consent.models import ConsentEvent
from mayknow.shared.clock import FakeClock
from tests.conftest import People

NUMBER = "+8613900001111"


def _register(client: TestClient, **fields: object) -> tuple[int, dict[str, object]]:
    response = client.post("/v1/auth/register", json=fields)
    return response.status_code, response.json()


def _count(container: Container, model: type) -> int:
    with container.uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_code_answers_the_same_for_members_and_strangers(
    people: People, client: TestClient
) -> None:
    member = people.sign_up()
    people.clock.advance(seconds=61)
    known = client.post("/v1/auth/code", json={"phone": member.phone})
    unknown = client.post("/v1/auth/code", json={"phone": "+8613900009999"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


def test_registration_needs_the_current_policy_version_and_loses_nothing(
    people: People, client: TestClient, container: Container
) -> None:
    code = people.code_for(NUMBER)
    status, body = _register(
        client, phone=NUMBER, code=code, nickname="凌某", accept_policy_version="2000-01-01"
    )
    assert status == 422
    assert body["error"]["code"] == "policy_not_accepted"
    assert _count(container, User) == 0
    status, _ = _register(
        client, phone=NUMBER, code=code, nickname="凌某", accept_policy_version=people.version
    )
    assert status == 201  # the same code still works: the refusal consumed nothing


def test_registration_records_the_implied_consent_and_nothing_more(
    people: People, client: TestClient, container: Container
) -> None:
    member = people.sign_up()
    with container.uow.read() as session:
        events = session.scalars(select(ConsentEvent)).all()
    assert [(e.purpose, e.granted, e.policy_version) for e in events] == [
        ("account", True, people.version)
    ]
    consents = client.get("/v1/me/consents", headers=member.auth).json()
    assert consents["policy"]["accepted_version"] == people.version
    assert all(
        not state["granted"] and state["at"] is None for state in consents["purposes"].values()
    )
    assert set(consents["purposes"]) == {
        "contacts_upload",
        "discoverable_by_phone",
        "suggest_me_to_my_contacts",
        "suggest_from_others_contacts",
        "location_city",
        "share_with_partner_apps",
    }


@pytest.mark.parametrize(
    ("nickname", "accepted"),
    [
        ("  凌某  ", "凌某"),
        ("a" * 30, "a" * 30),
        ("a" * 31, None),
        ("   ", None),
        ("bad\x00name", None),
        ("bell\x07", None),
        ("rtl\u202eoverride", None),
        (12, None),
    ],
)
def test_nickname_is_trimmed_and_checked(
    people: People, client: TestClient, nickname: object, accepted: str | None
) -> None:
    status, body = _register(
        client,
        phone=NUMBER,
        code=people.code_for(NUMBER),
        nickname=nickname,
        accept_policy_version=people.version,
    )
    if accepted is None:
        assert status == 422
        assert body["error"]["field"] == "nickname"
    else:
        assert status == 201
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
        assert me["nickname"] == accepted


@pytest.mark.parametrize(
    "phone", ["10086", "010-12345678", "not a number", "+86 138", "１３８", "+861390000111122222"]
)
def test_non_mobile_numbers_are_refused_without_echo(client: TestClient, phone: str) -> None:
    response = client.post("/v1/auth/code", json={"phone": phone})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_phone"
    assert phone not in response.text


def test_numbers_are_read_in_any_format(people: People, client: TestClient) -> None:
    member = people.sign_up(phone="+8613900002222")
    for written in ("139 0000 2222", "+86-139-0000-2222", "(+86) 13900002222"):
        code = people.code_for(written)
        response = client.post("/v1/auth/login", json={"phone": written, "code": code})
        assert response.status_code == 200, response.text
        assert response.json()["user_id"] == member.user_id


def test_a_code_works_once(people: People, client: TestClient) -> None:
    member = people.sign_up()
    code = people.code_for(member.phone)
    assert (
        client.post("/v1/auth/login", json={"phone": member.phone, "code": code}).status_code == 200
    )
    again = client.post("/v1/auth/login", json={"phone": member.phone, "code": code})
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "invalid_code"


def test_a_code_expires_after_five_minutes(
    people: People, client: TestClient, clock: FakeClock
) -> None:
    member = people.sign_up()
    code = people.code_for(member.phone)
    clock.advance(seconds=301)
    response = client.post("/v1/auth/login", json={"phone": member.phone, "code": code})
    assert response.json()["error"]["code"] == "code_expired"


def test_five_wrong_codes_lock_the_code(people: People, client: TestClient) -> None:
    member = people.sign_up()
    code = people.code_for(member.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [
        client.post("/v1/auth/login", json={"phone": member.phone, "code": wrong}) for _ in range(5)
    ]
    assert [a.json()["error"]["code"] for a in answers] == ["invalid_code"] * 4 + ["code_locked"]
    right = client.post("/v1/auth/login", json={"phone": member.phone, "code": code})
    assert right.status_code == 429
    assert right.json()["error"]["code"] == "code_locked"
    fresh = people.code_for(member.phone)
    assert (
        client.post("/v1/auth/login", json={"phone": member.phone, "code": fresh}).status_code
        == 200
    )


def test_codes_are_stored_only_hashed(people: People, container: Container) -> None:
    code = people.code_for(NUMBER)
    with container.uow.read() as session:
        row = session.scalars(select(LoginCode)).one()
    assert code.encode() not in row.code_hash
    assert NUMBER.encode() not in row.phone_pseudonym


def test_codes_to_one_number_are_spaced_and_capped(client: TestClient, clock: FakeClock) -> None:
    assert client.post("/v1/auth/code", json={"phone": NUMBER}).status_code == 202
    soon = client.post("/v1/auth/code", json={"phone": NUMBER})
    assert soon.status_code == 429
    assert 1 <= int(soon.headers["Retry-After"]) <= 60
    clock.advance(seconds=1)  # the hour's window starts fresh here
    statuses = []
    for _ in range(6):
        clock.advance(seconds=61)
        statuses.append(client.post("/v1/auth/code", json={"phone": NUMBER}).status_code)
    assert statuses.count(429) >= 1
    assert statuses.count(202) <= 5


def test_codes_from_one_address_are_capped_outside_dev(
    container: Container, client: TestClient, clock: FakeClock
) -> None:
    container.accounts.policy = container.accounts.policy.__class__(
        **{**container.accounts.policy.__dict__, "codes_per_address_per_hour": 3}
    )
    statuses = [
        client.post("/v1/auth/code", json={"phone": f"+86139000030{i:02d}"}).status_code
        for i in range(5)
    ]
    assert statuses == [202, 202, 202, 429, 429]


def test_registering_twice_is_refused(people: People, client: TestClient) -> None:
    member = people.sign_up()
    status, body = _register(
        client,
        phone=member.phone,
        code=people.code_for(member.phone),
        nickname="again",
        accept_policy_version=people.version,
    )
    assert status == 409
    assert body["error"]["code"] == "phone_already_registered"


def test_login_of_an_unknown_number_says_so_only_to_its_owner(
    people: People, client: TestClient
) -> None:
    code = people.code_for(NUMBER)
    response = client.post("/v1/auth/login", json={"phone": NUMBER, "code": code})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "account_not_found"


def test_new_policy_version_requires_reacceptance_at_next_login(
    people: People, client: TestClient, container: Container
) -> None:
    member = people.sign_up()
    container.consent.policy_version = "2099-01-01"
    code = people.code_for(member.phone)
    refused = client.post("/v1/auth/login", json={"phone": member.phone, "code": code})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "policy_reacceptance_required"
    accepted = client.post(
        "/v1/auth/login",
        json={"phone": member.phone, "code": code, "accept_policy_version": "2099-01-01"},
    )
    assert accepted.status_code == 200  # the refusal did not use up the code
    consents = client.get(
        "/v1/me/consents", headers={"Authorization": f"Bearer {accepted.json()['token']}"}
    ).json()
    assert consents["policy"]["accepted_version"] == "2099-01-01"


def test_the_phone_is_kept_only_as_pseudonym_and_ciphertext(
    people: People, client: TestClient, container: Container
) -> None:
    member = people.sign_up(phone="+8613900004444")
    with container.uow.read() as session:
        user = session.get(User, member.user_id)
    assert user is not None
    for form in (b"+8613900004444", b"13900004444"):
        assert form not in user.phone_pseudonym
        assert form not in user.phone_ciphertext
    me = client.get("/v1/me", headers=member.auth).json()
    assert me["phone_masked"] == "+86 139****4444"
    assert me["city"] is None


def test_dev_outbox_exists_only_in_dev(container: Container, outbox: OutboxSender) -> None:
    from mayknow.entrypoints.api.app import create_app

    prod = container.settings.__class__(**{**container.settings.__dict__, "dev": False})
    container.settings = prod
    with TestClient(create_app(container)) as plain:
        assert plain.get("/v1/dev/outbox", params={"phone": NUMBER}).status_code == 404
