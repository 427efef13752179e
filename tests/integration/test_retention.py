"""Retention: each kind of personal data goes when its declared time is up (a fake clock)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from mayknow.accounts.models import AuthSession, LoginCode, RateCounter, SecurityEvent
from mayknow.audit.models import AuditEvent
from mayknow.bootstrap import Container
from mayknow.contacts.models import DiscoveryChange
from mayknow.entrypoints.cli import app
from mayknow.location.models import City
from mayknow.shared.clock import FakeClock
from tests.conftest import People, grant


def _count(container: Container, model: type) -> int:
    with container.uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_nothing_young_is_purged(people: People, client: TestClient, container: Container) -> None:
    member = people.sign_up()
    grant(client, member, "discoverable_by_phone")
    assert container.retention.purge() == {}
    assert _count(container, AuthSession) == 1


def test_each_kind_goes_when_its_time_is_up(
    people: People, client: TestClient, container: Container, clock: FakeClock
) -> None:
    member = people.sign_up()
    grant(client, member, "discoverable_by_phone")
    with container.uow.write() as session:
        session.add(
            City(
                user_id=member.user_id,
                name_zh="成都",
                name_en="Chengdu",
                province_zh="四川",
                derived_at=clock.now(),
                expires_at=clock.now() + container.location.lifetime,
            )
        )
    clock.advance(days=1, seconds=1)
    first = container.retention.purge()
    assert first["login_codes"] == 1  # one-time codes: 24 hours
    assert first["rate_counters"] >= 2  # counters: 24 hours
    assert _count(container, SecurityEvent) == 1  # the security log: 7 days
    clock.advance(days=6)
    week = container.retention.purge()
    assert week["security_log"] == 1  # the security log: 7 days
    assert week["sessions"] == 1  # and a session idle for 7 days
    assert _count(container, City) == 1
    clock.advance(days=23)
    assert container.retention.purge()["cities"] == 1  # a city: 30 days
    assert _count(container, DiscoveryChange) == 1  # the newest change stays: the version
    for model in (LoginCode, RateCounter, SecurityEvent, AuthSession, City):
        assert _count(container, model) == 0, model


def test_every_purge_that_removes_something_is_audited(
    people: People, container: Container, clock: FakeClock
) -> None:
    people.sign_up()
    clock.advance(days=2)
    removed = container.retention.purge()
    with container.uow.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention_purge")
        ).one()
    assert '"login_codes": 1' in event.details
    assert removed["login_codes"] == 1
    assert container.verify_audit().ok


def test_the_purge_command(container: Container) -> None:
    settings = container.settings
    result = CliRunner().invoke(
        app, ["purge", "--db", settings.database_url, "--data-dir", str(settings.data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("purged:")
