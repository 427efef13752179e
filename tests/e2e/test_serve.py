"""The real command, on loopback: start, serve, migrate, and log nothing personal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

PHONE = "+8613900008888"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mayknow(*args: str) -> list[str]:
    return [sys.executable, "-m", "mayknow", *args]


@pytest.fixture
def server(tmp_path: Path, database_url: str, engine: object) -> Iterator[tuple[str, Path]]:
    port, log = _free_port(), tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            _mayknow(
                "serve",
                "--dev",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "d"),
                "--db",
                database_url,
            ),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                pytest.fail(f"server did not start: {log.read_text()}")
            yield base, log
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_a_newcomer_signs_up_against_the_real_server_and_no_log_line_names_him(
    server: tuple[str, Path],
) -> None:
    base, log = server
    with httpx.Client(base_url=base, timeout=10) as http:
        version = http.get("/v1/policy").json()["version"]
        assert http.post("/v1/auth/code", json={"phone": PHONE}).status_code == 202
        code = http.get("/v1/dev/outbox", params={"phone": PHONE}).json()["code"]
        registered = http.post(
            "/v1/auth/register",
            json={
                "phone": PHONE,
                "code": code,
                "nickname": "凌某",
                "accept_policy_version": version,
            },
        )
        assert registered.status_code == 201
        assert "HttpOnly" in registered.headers["set-cookie"]
        token = registered.json()["token"]
        me = http.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["phone_masked"] == "+86 139****8888"
    deadline = time.monotonic() + 10  # the access line is written just after the answer
    while "GET /v1/me 200" not in (text := log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "GET /v1/me 200" in text  # the access log is on...
    for form in (PHONE, PHONE[3:], "139 0000 8888", token, "凌某"):
        assert form not in text  # ...and names nobody


def test_db_upgrade_and_version_commands(tmp_path: Path) -> None:
    upgraded = subprocess.run(
        _mayknow("db", "upgrade", "--data-dir", str(tmp_path / "d")),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "up to date" in upgraded.stdout
    assert (tmp_path / "d" / "mayknow.db").exists()
    version = subprocess.run(
        _mayknow("version"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip().count(".") == 2
