"""Logs: no line of the whole run holds a phone number in any format, a session token or
a request body. The capture is tests/conftest.py's (every logger, DEBUG, from the start);
the server processes' logs are the server.log files the tests left under the session's tmp."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mayknow.bootstrap import Container
from mayknow.entrypoints.api.app import create_app
from tests.conftest import LOG_CAPTURE, People
from tests.reliability.logscan import Finding, Scanner, body_fields

PLANTED = [
    "+8613900001234",
    "8613900001234",
    "13900001234",
    "+86 139 0000 1234",
    "139-0000-1234",
    "+447700900123",
]


@pytest.fixture
def scanner(container: Container) -> Scanner:
    return Scanner(LOG_CAPTURE.tokens, body_fields(create_app(container).openapi()))


@pytest.fixture
def planted() -> Iterator[list[tuple[str, str]]]:
    """Lines a test logs on purpose; taken out of the capture again afterwards."""
    start = len(LOG_CAPTURE.lines)
    mine: list[tuple[str, str]] = []
    yield mine
    mine += LOG_CAPTURE.lines[start:]
    LOG_CAPTURE.lines[start:] = [line for line in LOG_CAPTURE.lines[start:] if line not in mine]


def _caught(scanner: Scanner, start: int) -> list[Finding]:
    return scanner.lines("capture", LOG_CAPTURE.lines[start:])


def test_the_check_catches_a_number_logged_by_mayknow_in_every_format(
    scanner: Scanner, planted: list[tuple[str, str]]
) -> None:
    for number in PLANTED:
        start = len(LOG_CAPTURE.lines)
        logging.getLogger("mayknow").info(number)
        logging.getLogger("mayknow.deep.module").debug("matched %s", number)
        assert len(_caught(scanner, start)) == 2, number


def test_the_check_catches_a_session_token_and_a_request_body(
    scanner: Scanner, people: People, planted: list[tuple[str, str]]
) -> None:
    member = people.sign_up()
    start = len(LOG_CAPTURE.lines)
    logging.getLogger("mayknow").warning("session %s", member.token)
    logging.getLogger("mayknow").warning("body %s", {"nickname": "凌某", "code": "123456"})
    logging.getLogger("uvicorn").warning("b'{\"phones\": []}'")
    logging.getLogger("mayknow").warning("Authorization: Bearer %s", "not.a-fixture~token")
    logging.getLogger("uvicorn").warning("cookie mayknow_session=%s", "not.a-fixture~token")
    assert [f.what for f in _caught(scanner, start)] == [
        "a session token",
        "a request body",
        "a request body",
        "a bearer token or session cookie",
        "a bearer token or session cookie",
    ]


def test_the_check_lets_masked_numbers_ids_and_timings_through(
    scanner: Scanner, planted: list[tuple[str, str]]
) -> None:
    start = len(LOG_CAPTURE.lines)
    logging.getLogger("mayknow.sms").info("[dev sms] code 123456 for +86 139****8888")
    logging.getLogger("mayknow.access").info("POST /v1/follows/{user_id} 200 13.9ms")
    logging.getLogger("mayknow").info("member 4503599627370495 at 2019-02-09T10:00:00+00:00")
    logging.getLogger("httpx").info(
        'HTTP Request: GET http://testserver/v1/dev/outbox?phone=%2B8613900001234 "200"'
    )
    logging.getLogger("httpcore.http11").debug(  # a test client receiving its login cookie
        "receive_response_headers.complete (b'set-cookie', b'mayknow_session=%s')",
        "-6BR8c_0r_FzuvQf_T8R2GKZfeAbCdEfGhIjKlMnOp1",
    )
    assert _caught(scanner, start) == []


@pytest.mark.last
def test_no_log_line_of_the_run_holds_a_number_a_token_or_a_body(
    scanner: Scanner, client: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert client.get("/v1/health").status_code == 200  # at least one access line
    lines = list(LOG_CAPTURE.lines)
    assert any(logger == "mayknow.access" for logger, _ in lines), "the capture is not on"
    findings = scanner.lines("in-process logs", lines)
    # The `mayknow serve` processes' logs (every test names its server's log server.log);
    # not Chromium's own profile files, which are binary and hold random identifiers.
    files = sorted(tmp_path_factory.getbasetemp().rglob("server.log"))
    for path in files:
        text = path.read_text(errors="replace").splitlines()
        findings += scanner.lines(str(path), (("server", line) for line in text))
    LOG_CAPTURE.checked = len(lines)
    LOG_CAPTURE.checker = lambda late: [str(f) for f in scanner.lines("after the check", late)]
    print(f"log check: {len(lines)} in-process lines, {len(files)} server logs")
    assert not findings, "\n".join(map(str, findings[:50]))
