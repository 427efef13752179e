from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from typer.testing import CliRunner

from mayknow.audit.models import AuditEvent
from mayknow.bootstrap import Container
from mayknow.entrypoints.cli import app
from tests.conftest import People


def _some_history(people: People, client: TestClient) -> None:
    for _ in range(2):
        member = people.sign_up()
        client.put("/v1/me/consents/contacts_upload", json={"granted": True}, headers=member.auth)


def test_an_untouched_chain_verifies(
    people: People, client: TestClient, container: Container
) -> None:
    _some_history(people, client)
    verdict = container.verify_audit()
    assert verdict.ok
    assert verdict.checked == 6


def test_an_edited_row_is_detected(
    people: People, client: TestClient, container: Container
) -> None:
    _some_history(people, client)
    with container.engine.begin() as conn:
        conn.execute(
            update(AuditEvent).where(AuditEvent.id == 3).values(action="consent_withdrawn")
        )
    verdict = container.verify_audit()
    assert not verdict.ok
    assert verdict.problem == "event 3 was altered"


def test_a_deleted_row_is_detected(
    people: People, client: TestClient, container: Container
) -> None:
    _some_history(people, client)
    with container.engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.id == 2))
    assert container.verify_audit().problem == "event 2 is missing"


def test_removing_the_newest_rows_is_detected(
    people: People, client: TestClient, container: Container
) -> None:
    _some_history(people, client)
    with container.engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.id >= 5))
    assert "removed" in container.verify_audit().problem


def test_audit_verify_command_fails_on_a_tampered_row(
    people: People, client: TestClient, container: Container
) -> None:
    _some_history(people, client)
    args = [
        "audit",
        "verify",
        "--db",
        container.settings.database_url,
        "--data-dir",
        str(container.settings.data_dir),
    ]
    intact = CliRunner().invoke(app, args)
    assert intact.exit_code == 0, intact.output
    assert "6 events" in intact.output
    with container.engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.id == 4).values(details="{}"))
    broken = CliRunner().invoke(app, args)
    assert broken.exit_code == 1
    assert "event 4 was altered" in broken.output
