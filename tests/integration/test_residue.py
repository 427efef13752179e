"""H2: a number that matches no consenting account leaves no trace, in any form."""

from __future__ import annotations

import hashlib
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from mayknow.bootstrap import Container
from tests.conftest import People, grant
from tests.store_files import store_bytes

STRANGERS = [f"+86137{u:02d}{i:06d}" for u in range(6) for i in range(0, 200_000, 1000)]


def _forms(e164: str) -> list[bytes]:
    national = e164.removeprefix("+86")
    texts = [e164, e164[1:], national, f"{national[:3]} {national[3:7]} {national[7:]}"]
    forms = [t.encode() for t in texts]
    for t in texts[:3]:
        for algorithm in ("md5", "sha1", "sha256"):
            digest = hashlib.new(algorithm, t.encode())
            forms += [
                digest.digest(),
                digest.hexdigest().encode(),
                digest.hexdigest().upper().encode(),
            ]
    return forms


def _rows(container: Container) -> bytes:
    parts = []
    with container.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                parts += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    return b"\x00".join(parts)


def test_unmatched_numbers_leave_no_trace(
    people: People, client: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    uploaders = [people.sign_up(f"用户{i}") for i in range(4)]
    member = people.sign_up("胡子")
    grant(client, member, "discoverable_by_phone")
    for index, uploader in enumerate(uploaders):
        grant(client, uploader, "contacts_upload")
        book = [*STRANGERS[index * 300 : (index + 1) * 300], member.phone]
        response = client.post("/v1/contacts/sync", json={"phones": book}, headers=uploader.auth)
        assert response.status_code == 200
        assert response.json()["discarded"] == 300
        delta = client.post(
            "/v1/contacts/sync/delta",
            json={"add": STRANGERS[-50:], "remove": STRANGERS[:3]},
            headers=uploader.auth,
        )
        assert delta.status_code == 200
    haystacks = {
        "store": store_bytes(container.engine),
        "rows": _rows(container),
        "logs": "\n".join(r.getMessage() for r in caplog.records).encode(),
    }
    assert "胡子".encode() in haystacks["store"]  # the scan does see what is stored...
    assert member.phone.encode() not in haystacks["logs"]
    for number in STRANGERS[:1200:7] + STRANGERS[-50:]:
        for form in _forms(number):
            for where, haystack in haystacks.items():
                assert form not in haystack, f"{number} left a trace in {where}"
