"""Fixtures shared by every test: a migrated store (SQLite, or PostgreSQL when
MAYKNOW_TEST_DATABASE_URL names one), a container with a fake clock and an outbox,
and an HTTP client. Fixtures use fictional people and numbers only."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, insert

from mayknow import bootstrap, config
from mayknow.accounts.sms import OutboxSender
from mayknow.audit.models import AuditHead
from mayknow.audit.service import GENESIS, HEAD_ID
from mayknow.contacts.models import DirectoryHead
from mayknow.db.engine import make_engine
from mayknow.db.migrate import upgrade
from mayknow.entrypoints.api.app import create_app
from mayknow.schema import metadata
from mayknow.shared.clock import FakeClock

TEST_DB_ENV = "MAYKNOW_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get(TEST_DB_ENV)
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'mayknow-test.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # a throwaway database: start from nothing
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade(engine)
    yield engine
    engine.dispose()


def empty_store(engine: Engine) -> None:
    """Every table emptied, and the one-row heads back as a fresh migration left them."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))
        conn.execute(insert(AuditHead).values(id=HEAD_ID, last_id=0, last_hash=GENESIS))
        conn.execute(insert(DirectoryHead).values(id=1, seq=0, purged_through=0))


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """The migrated store, empty when the test starts (a test that wrote through
    ``database_url`` alone left no cleanup behind) and emptied after it."""
    empty_store(migrated_engine)
    yield migrated_engine
    empty_store(migrated_engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox() -> OutboxSender:
    return OutboxSender()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> config.Settings:
    return config.Settings(data_dir=tmp_path / "data", db=database_url, dev=True)


@pytest.fixture
def container(
    settings: config.Settings, engine: Engine, clock: FakeClock, outbox: OutboxSender
) -> bootstrap.Container:
    return bootstrap.build(settings, clock=clock, sms=outbox, engine=engine, migrate=False)


@pytest.fixture
def client(container: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@dataclass
class Member:
    user_id: int
    token: str
    phone: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class People:
    """Signs fictional people up through the public API."""

    def __init__(
        self,
        client: TestClient,
        outbox: OutboxSender,
        clock: FakeClock,
        container: bootstrap.Container,
    ) -> None:
        self.client, self.outbox, self.clock = client, outbox, clock
        self.container = container
        self.version = container.consent.policy_version
        self._next = 0

    def phone(self) -> str:
        self._next += 1
        return f"+86139{self._next:08d}"  # 139 0000 xxxx: fictional test numbers

    def code_for(self, phone: str) -> str:
        self.clock.advance(seconds=61)  # past the per-number interval
        response = self.client.post("/v1/auth/code", json={"phone": phone})
        assert response.status_code == 202, response.text
        code = self.outbox.last_code(self.container.accounts.parse_phone(phone))
        assert code is not None
        return code

    def sign_up(self, nickname: str = "小明", phone: str | None = None) -> Member:
        phone = phone or self.phone()
        response = self.client.post(
            "/v1/auth/register",
            json={
                "phone": phone,
                "code": self.code_for(phone),
                "nickname": nickname,
                "accept_policy_version": self.version,
            },
        )
        assert response.status_code == 201, response.text
        self.client.cookies.clear()  # tests sign in with the bearer token unless they say so
        body = response.json()
        LOG_CAPTURE.tokens.add(body["token"])
        return Member(body["user_id"], body["token"], phone)


def grant(client: TestClient, member: Member, *purposes: str, granted: bool = True) -> None:
    for purpose in purposes:
        response = client.put(
            f"/v1/me/consents/{purpose}", json={"granted": granted}, headers=member.auth
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def people(
    client: TestClient, outbox: OutboxSender, clock: FakeClock, container: bootstrap.Container
) -> People:
    return People(client, outbox, clock, container)


# -- Every log line of the run (checked by tests/reliability/test_logs.py) ----------------
# A handler on the root logger, from the session's start, at DEBUG, keeps every record of
# every logger, formatted. Fixtures add the session tokens they were issued. The check runs
# as the session's last test (marked ``last``); lines logged after it are checked when the
# session finishes, and any finding there fails the run.


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[tuple[str, str]] = []  # (logger name, formatted record)
        self.tokens: set[str] = set()
        self.checked = 0  # lines the final test has checked
        self.checker: Callable[[list[tuple[str, str]]], list[str]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is kept by its template
            text = f"{record.levelname} {record.name} {record.msg!s}"
        self.lines.append((record.name, text))


LOG_CAPTURE = LogCapture()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: runs after every other test of the session")
    root = logging.getLogger()
    root.addHandler(LOG_CAPTURE)
    root.setLevel(logging.DEBUG)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if LOG_CAPTURE.checker is None:  # the final test did not run
        return
    late = LOG_CAPTURE.checker(LOG_CAPTURE.lines[LOG_CAPTURE.checked :])
    if late:  # something logged after the final test holds personal data
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("log lines after the final check hold personal data:", red=True)
            for finding in late:
                reporter.write_line(f"  {finding}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
