"""H10: the recall query exists for operators only, needs a reason, and is itself audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from mayknow.audit.models import AuditEvent
from mayknow.bootstrap import Container
from mayknow.entrypoints.cli import app
from tests.conftest import Member, People, grant

REASON = "complaint 2019-0209: why is 胡子 suggested?"


def _operator(people: People, container: Container) -> Member:
    staff = people.sign_up("客服")
    settings = container.settings
    result = CliRunner().invoke(
        app,
        [
            "operators",
            "add",
            str(staff.user_id),
            "--db",
            settings.database_url,
            "--data-dir",
            str(settings.data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    return staff


def _recall(
    client: TestClient, who: Member | None, viewer: int, candidate: int, reason: str | None = REASON
) -> tuple[int, dict[str, object]]:
    params: dict[str, object] = {"viewer": viewer, "candidate": candidate}
    if reason is not None:
        params["reason"] = reason
    response = client.get("/v1/admin/recall", params=params, headers=who.auth if who else {})
    return response.status_code, response.json()


def test_recall_answers_which_sources_and_since_when_without_numbers(
    people: People, client: TestClient, container: Container
) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    staff = _operator(people, container)
    grant(client, ling, "discoverable_by_phone", "suggest_from_others_contacts")
    grant(client, hu, "contacts_upload", "suggest_me_to_my_contacts")
    client.post("/v1/contacts/sync", json={"phones": [ling.phone]}, headers=hu.auth)
    client.post(f"/v1/follows/{ling.user_id}", headers=hu.auth)
    status, body = _recall(client, staff, ling.user_id, hu.user_id)
    assert status == 200
    assert body["suggested_now"] is True
    assert body["reasons_shown"] == ["has_you_in_contacts", "follows_you"]
    kinds = [s["kind"] for s in body["sources"]]  # type: ignore[union-attr]
    assert kinds == ["has_you_in_contacts", "follows_you"]
    assert all("since" in s for s in body["sources"])  # type: ignore[union-attr]
    assert body["consents"]["candidate"]["suggest_me_to_my_contacts"] is True  # type: ignore[index]
    for number in (ling.phone, hu.phone, ling.phone[3:], hu.phone[3:]):
        assert number not in str(body)


def test_recall_names_what_keeps_a_candidate_out(
    people: People, client: TestClient, container: Container
) -> None:
    ling, fan = people.sign_up(), people.sign_up()
    staff = _operator(people, container)
    client.post(f"/v1/follows/{ling.user_id}", headers=fan.auth)
    client.post(f"/v1/suggestions/{fan.user_id}/dismiss", headers=ling.auth)
    _, body = _recall(client, staff, ling.user_id, fan.user_id)
    assert body["suggested_now"] is False
    assert body["exclusions"] == ["dismissed"]


def test_only_operators_with_a_reason_may_ask(
    people: People, client: TestClient, container: Container
) -> None:
    ling, hu = people.sign_up(), people.sign_up()
    staff = _operator(people, container)
    assert _recall(client, None, ling.user_id, hu.user_id)[0] == 401
    status, body = _recall(client, hu, ling.user_id, hu.user_id)
    assert (status, body["error"]["code"]) == (403, "not_an_operator")  # type: ignore[index]
    for reason in (None, "", "   because  ", "x" * 501):
        status, body = _recall(client, staff, ling.user_id, hu.user_id, reason)
        assert status == 422, reason
        assert body["error"]["code"] == "reason_required"  # type: ignore[index]
    assert _recall(client, staff, ling.user_id, 424242424242)[0] == 404


def test_every_recall_is_in_the_audit_log_with_who_and_why(
    people: People, client: TestClient, container: Container
) -> None:
    ling, hu = people.sign_up(), people.sign_up()
    staff = _operator(people, container)
    _recall(client, staff, ling.user_id, hu.user_id)
    _recall(client, hu, ling.user_id, hu.user_id)  # refused: leaves nothing
    with container.uow.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "operator_recall")
        ).all()
    assert len(events) == 1
    assert REASON in events[0].details
    assert str(ling.user_id) not in events[0].details
    log = client.get("/v1/admin/audit", params={"reason": REASON, "limit": 5}, headers=staff.auth)
    assert log.status_code == 200
    actions = [e["action"] for e in log.json()["events"]]
    assert actions[0] == "operator_recall"
    assert client.get("/v1/admin/audit", headers=staff.auth).status_code == 422
    assert container.verify_audit().ok


def test_sign_ins_are_kept_in_the_security_log_for_seven_days(
    people: People, client: TestClient, container: Container
) -> None:
    ling = people.sign_up()
    export = client.get("/v1/me/export", headers=ling.auth).json()
    assert [e["kind"] for e in export["security_log"]] == ["register"]
    people.clock.advance(days=7, seconds=1)
    with container.uow.write() as session:
        purged = container.accounts.purge_expired(session, people.clock.now())
    assert purged["security_log"] == 1
