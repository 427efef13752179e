"""Bad input gets a clear 4xx in one shape, changes nothing and echoes no number."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mayknow.accounts.models import LoginCode, User
from mayknow.bootstrap import Container
from tests.conftest import People

NUMBER = "+8613900007777"


def _shape(response_json: dict[str, object]) -> tuple[str, str]:
    error = response_json["error"]
    assert isinstance(error, dict)
    assert isinstance(error["code"], str)
    assert error["code"].islower()
    assert isinstance(error["message"], str)
    assert error["message"]
    return error["code"], error["message"]


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"phone": "1390000', b"\xff\xfe"])
def test_malformed_json_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post(
        "/v1/auth/code", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert _shape(response.json())[0] == "malformed_json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "phone"),
        ({"phone": 13900007777}, "phone"),
        ({"phone": None}, "phone"),
        ({"phone": [NUMBER]}, "phone"),
        ({"phone": "1" * 100}, "phone"),
    ],
)
def test_wrong_or_missing_fields_name_the_field(
    client: TestClient, body: object, field: str
) -> None:
    response = client.post("/v1/auth/code", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert "13900007777" not in response.text


def test_a_body_that_is_not_an_object_is_refused(client: TestClient) -> None:
    for body in ([], "x", 5, None):
        response = client.post("/v1/auth/code", json=body)
        assert response.status_code == 422
        _shape(response.json())


def test_oversized_bodies_are_413_before_anything_is_read(
    client: TestClient, container: Container
) -> None:
    huge = b'{"phone": "' + b"1" * 2_000_000 + b'"}'
    response = client.post(
        "/v1/auth/code", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert _shape(response.json())[0] == "payload_too_large"

    def chunks() -> object:
        for _ in range(40):
            yield b"1" * 65_536

    streamed = client.post(
        "/v1/auth/code", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    with container.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(LoginCode)) == 0


def test_register_with_bad_fields_changes_nothing(
    people: People, client: TestClient, container: Container
) -> None:
    code = people.code_for(NUMBER)
    bad_bodies = [
        {
            "phone": NUMBER,
            "code": code,
            "nickname": "x" * 5000,
            "accept_policy_version": people.version,
        },
        {
            "phone": NUMBER,
            "code": "12ab56",
            "nickname": "ok",
            "accept_policy_version": people.version,
        },
        {
            "phone": NUMBER,
            "code": 123456,
            "nickname": "ok",
            "accept_policy_version": people.version,
        },
        {"phone": "10086", "code": code, "nickname": "ok", "accept_policy_version": people.version},
        {"phone": NUMBER, "code": code, "nickname": "ok"},
    ]
    for body in bad_bodies:
        response = client.post("/v1/auth/register", json=body)
        assert 400 <= response.status_code < 500, body
        _shape(response.json())
        assert "13900007777" not in response.text
    with container.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    good = {
        "phone": NUMBER,
        "code": code,
        "nickname": "ok",
        "accept_policy_version": people.version,
    }
    assert client.post("/v1/auth/register", json=good).status_code == 201


def test_unknown_paths_and_methods_answer_in_the_error_shape(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert _shape(missing.json())[0] == "not_found"
    wrong = client.put("/v1/me")
    assert wrong.status_code == 405
    _shape(wrong.json())


def test_responses_carry_protective_headers(client: TestClient) -> None:
    response = client.get("/v1/policy")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
