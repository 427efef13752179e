from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from mayknow.bootstrap import Container
from mayknow.contacts.models import DiscoveryTag
from tests.conftest import Member, People


def _grant(client: TestClient, member: Member, *purposes: str) -> None:
    for purpose in purposes:
        client.put(f"/v1/me/consents/{purpose}", json={"granted": True}, headers=member.auth)


def test_export_holds_every_piece_of_the_callers_data(people: People, client: TestClient) -> None:
    ling, hu = people.sign_up("凌某", phone="+8613900005555"), people.sign_up("胡子")
    _grant(client, ling, "discoverable_by_phone")
    client.put("/v1/me/settings", json={"show_city_on_profile": True}, headers=ling.auth)
    client.post(f"/v1/follows/{hu.user_id}", headers=ling.auth)
    client.post(f"/v1/follows/{ling.user_id}", headers=hu.auth)
    export = client.get("/v1/me/export", headers=ling.auth).json()
    assert export["account"]["phone"] == "+8613900005555"
    assert export["account"]["nickname"] == "凌某"
    assert export["consents"]["discoverable_by_phone"]["granted"] is True
    assert [c["purpose"] for c in export["consent_history"]] == ["account", "discoverable_by_phone"]
    assert export["settings"]["show_city_on_profile"] is True
    assert [f["user_id"] for f in export["following"]] == [hu.user_id]
    assert [f["user_id"] for f in export["fans"]] == [hu.user_id]
    assert len(export["sessions"]) == 1
    assert {e["action"] for e in export["audit_events"]} >= {"account_created", "consent_granted"}
    assert "+8613900005555" not in str(client.get("/v1/me/export", headers=hu.auth).json())


def _rows_naming(container: Container, needles: list[object]) -> list[str]:
    """Every table row, in every column, that holds one of ``needles``."""
    found = []
    with container.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                for value in row:
                    if value in needles or (
                        isinstance(value, str)
                        and any(str(n) in value for n in needles if isinstance(n, str))
                    ):
                        found.append(f"{table}: {row}")
    return found


def test_deleting_the_account_leaves_no_row_that_names_or_points_at_it(
    people: People, client: TestClient, container: Container
) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    _grant(client, ling, "discoverable_by_phone", "location_city")
    client.post(f"/v1/follows/{hu.user_id}", headers=ling.auth)
    client.post(f"/v1/follows/{ling.user_id}", headers=hu.auth)
    people.code_for(ling.phone)
    with container.uow.read() as session:
        from mayknow.accounts.models import User

        user = session.get(User, ling.user_id)
        assert user is not None
        tag = session.get(DiscoveryTag, ling.user_id)
        assert tag is not None
        identifying = [
            ling.user_id,
            user.phone_pseudonym,
            user.phone_ciphertext,
            "凌某",
            tag.tag,
            tag.tag[:8],
        ]
    response = client.delete("/v1/me", headers=ling.auth)
    assert response.status_code == 202
    receipt = response.json()["receipt"]
    assert receipt["erased"] == {
        "account": 1,
        "consent_records": 3,
        "follows": 2,
        "login_codes": 2,
        "rate_counters": 3,
        "sessions": 1,
        "discovery_tags": 1,
        "security_log": 1,
        "settings": 1,  # created, with the defaults, by the first consent change
    }
    assert _rows_naming(container, identifying) == []
    assert client.get("/v1/me", headers=ling.auth).status_code == 401
    assert client.get("/v1/me/fans", headers=hu.auth).json()["people"] == []
    assert container.verify_audit().ok


def test_the_receipt_lists_kinds_and_counts_never_values(
    people: People, client: TestClient
) -> None:
    ling = people.sign_up("凌为君", phone="+8613900006666")
    response = client.delete("/v1/me", headers=ling.auth)
    assert "凌为君" not in response.text
    assert "13900006666" not in response.text
    assert set(response.json()["receipt"]) == {"receipt_id", "at", "erased"}
    assert (
        'mayknow_session=""' in response.headers["set-cookie"]
        or "Max-Age=0" in response.headers["set-cookie"]
    )


def test_one_members_deletion_leaves_the_others_whole(people: People, client: TestClient) -> None:
    ling, hu, bing = people.sign_up(), people.sign_up(), people.sign_up()
    client.post(f"/v1/follows/{bing.user_id}", headers=hu.auth)
    client.delete("/v1/me", headers=ling.auth)
    assert [
        p["user_id"] for p in client.get("/v1/me/following", headers=hu.auth).json()["people"]
    ] == [bing.user_id]
    assert client.get("/v1/me", headers=hu.auth).status_code == 200
