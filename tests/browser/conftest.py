"""Playwright for Python driving Debian's Chromium against ``mayknow serve --dev`` on loopback.

Playwright's own browser download cannot work here: the tests launch /usr/bin/chromium
(installed by .ci/run with apt) with a fresh user-data-dir per test. They are skipped,
saying why, only when that browser or the playwright package is missing. Every test
saves screenshots under tests/browser/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A public address in Chengdu (ip2region), sent as X-Forwarded-For through the trusted
# loopback proxy, so that the scene happens where it did. No traffic goes to it.
CHENGDU = "125.69.1.1"
PHONE_SIZE = {"width": 390, "height": 844}

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's Chromium is not installed (apt-get install chromium; .ci/run does it)",
        allow_module_level=True,
    )
playwright = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[browser]')"
)
from playwright.sync_api import BrowserContext, Page, expect  # noqa: E402

expect.set_options(timeout=15_000)


@dataclass
class Server:
    base: str
    data_dir: Path
    database_url: str

    def mayknow(self, *args: str) -> str:
        """Run a mayknow command against this server's store."""
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mayknow",
                *args,
                "--data-dir",
                str(self.data_dir),
                "--db",
                self.database_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(tmp_path: Path, database_url: str, *extra: str) -> Iterator[Server]:
    port, log = _free_port(), tmp_path / "server.log"
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "mayknow", "serve", "--dev", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--db", database_url]
    command += ["--trusted-proxy", "127.0.0.1", *extra]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    pytest.fail(f"server exited: {log.read_text()}")
                try:
                    if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                pytest.fail(f"server did not start: {log.read_text()}")
            yield Server(base, data_dir, database_url)
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture
def server(tmp_path: Path, database_url: str, engine: object) -> Iterator[Server]:
    """`mayknow serve --dev` on a free loopback port; the store is emptied afterwards."""
    yield from _serve(tmp_path, database_url)


@pytest.fixture
def demo_server(tmp_path: Path, database_url: str, engine: object) -> Iterator[Server]:
    """`mayknow serve --dev --demo`: the fictional population, seeded into an empty store."""
    yield from _serve(tmp_path, database_url, "--demo")


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[object]:
    with playwright.sync_playwright() as driver:
        yield driver


def _name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)


@pytest.fixture
def context(
    playwright_driver: object, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    """A phone-sized Chromium in Simplified Chinese, behind a proxy in Chengdu."""
    locale = getattr(request, "param", "zh-CN")
    browser = playwright_driver.chromium.launch_persistent_context(  # type: ignore[attr-defined]
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=ARGS,
        headless=True,
        viewport=PHONE_SIZE,
        locale=locale,
        extra_http_headers={"X-Forwarded-For": CHENGDU},
        accept_downloads=True,
    )
    yield browser
    browser.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{_name(request)}.png"), full_page=True)
    assert errors == [], f"the page's script failed: {errors}"


@pytest.fixture
def shoot(page: Page, request: pytest.FixtureRequest) -> object:
    """shoot("step") saves a screenshot named after the test and the step (full page, or
    the phone's screen only with full_page=False)."""

    def take(step: str, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{_name(request)}--{step}.png"
        page.screenshot(path=str(path), full_page=full_page)

    return take
