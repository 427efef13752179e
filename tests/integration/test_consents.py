from __future__ import annotations

from collections.abc import Mapping

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mayknow.audit.models import AuditEvent
from mayknow.bootstrap import Container
from mayknow.consent.domain import Purpose
from mayknow.consent.models import ConsentEvent
from mayknow.consent.service import ConsentService
from mayknow.shared.clock import FakeClock
from tests.conftest import People


def test_granting_and_withdrawing_append_to_the_ledger(
    people: People, client: TestClient, container: Container
) -> None:
    member = people.sign_up()
    granted = client.put(
        "/v1/me/consents/location_city", json={"granted": True}, headers=member.auth
    )
    assert granted.status_code == 200
    assert granted.json()["granted"] is True
    assert granted.json()["policy_version"] == people.version
    people.clock.advance(minutes=5)
    client.put("/v1/me/consents/location_city", json={"granted": False}, headers=member.auth)
    with container.uow.read() as session:
        rows = session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.purpose == "location_city")
            .order_by(ConsentEvent.id)
        ).all()
    assert [r.granted for r in rows] == [True, False]
    state = client.get("/v1/me/consents", headers=member.auth).json()["purposes"]
    assert state["location_city"]["granted"] is False
    assert container.consent.allows(member.user_id, Purpose.LOCATION_CITY) is False


def test_repeating_a_choice_records_nothing(
    people: People, client: TestClient, container: Container
) -> None:
    member = people.sign_up()
    for _ in range(3):
        client.put(
            "/v1/me/consents/discoverable_by_phone", json={"granted": True}, headers=member.auth
        )
    with container.uow.read() as session:
        rows = session.scalars(
            select(ConsentEvent).where(ConsentEvent.purpose == "discoverable_by_phone")
        ).all()
    assert len(rows) == 1


def test_only_a_real_boolean_grants(people: People, client: TestClient) -> None:
    member = people.sign_up()
    for body in ({"granted": "true"}, {"granted": 1}, {}, {"granted": True, "extra": 1}):
        response = client.put("/v1/me/consents/contacts_upload", json=body, headers=member.auth)
        assert response.status_code == 422, body
    state = client.get("/v1/me/consents", headers=member.auth).json()["purposes"]
    assert state["contacts_upload"]["granted"] is False


def test_unknown_purposes_and_the_account_record_cannot_be_toggled(
    people: People, client: TestClient
) -> None:
    member = people.sign_up()
    for purpose in ("marketing", "account"):
        response = client.put(
            f"/v1/me/consents/{purpose}", json={"granted": True}, headers=member.auth
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "unknown_purpose"


def test_every_change_of_consent_is_audited(
    people: People, client: TestClient, container: Container
) -> None:
    member = people.sign_up()
    client.put("/v1/me/consents/contacts_upload", json={"granted": True}, headers=member.auth)
    with container.uow.read() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["account_created", "consent_granted", "consent_granted"]
    assert container.verify_audit().ok


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, session: Session, user_id: int) -> Mapping[str, int]:
        self.calls.append(user_id)
        return {"city": 1}


def test_withdrawal_runs_the_purposes_erasers_at_once(
    people: People, client: TestClient, container: Container, clock: FakeClock
) -> None:
    member = people.sign_up()
    eraser = _Recorder()
    container.consent.erasers = {Purpose.LOCATION_CITY: [eraser]}
    client.put("/v1/me/consents/location_city", json={"granted": True}, headers=member.auth)
    assert eraser.calls == []
    client.put("/v1/me/consents/location_city", json={"granted": False}, headers=member.auth)
    assert eraser.calls == [member.user_id]
    with container.uow.read() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None
    assert last.action == "withdrawal_erased"


def test_a_failing_eraser_undoes_the_withdrawal(
    people: People, container: Container, clock: FakeClock
) -> None:
    member = people.sign_up()

    def broken(session: Session, user_id: int) -> Mapping[str, int]:
        raise RuntimeError("disk on fire")

    service = ConsentService(
        container.uow, clock, people.version, {Purpose.LOCATION_CITY: [broken]}
    )
    service.change(member.user_id, "ref", Purpose.LOCATION_CITY, True, "api")
    with pytest.raises(RuntimeError):
        service.change(member.user_id, "ref", Purpose.LOCATION_CITY, False, "api")
    assert service.allows(member.user_id, Purpose.LOCATION_CITY) is True


def test_settings_start_at_their_disclosed_defaults_and_change(
    people: People, client: TestClient
) -> None:
    member = people.sign_up()
    assert client.get("/v1/me/settings", headers=member.auth).json() == {
        "suggestions_enabled": True,
        "recommend_me_to_others": True,
        "show_city_on_profile": False,
    }
    changed = client.put(
        "/v1/me/settings", json={"show_city_on_profile": True}, headers=member.auth
    )
    assert changed.json()["show_city_on_profile"] is True
    assert changed.json()["suggestions_enabled"] is True


def test_unknown_or_mistyped_settings_change_nothing(people: People, client: TestClient) -> None:
    member = people.sign_up()
    for body in (
        {"dark_mode": True},
        {"suggestions_enabled": "no"},
        {"suggestions_enabled": False, "typo": True},
    ):
        assert client.put("/v1/me/settings", json=body, headers=member.auth).status_code == 422
    assert client.get("/v1/me/settings", headers=member.auth).json()["suggestions_enabled"]
