"""A throwaway ``mayknow serve --dev`` on loopback, and the CLI run against its store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CHENGDU = "61.139.2.69"  # 中国|四川省|成都市 in the shipped ip2region data


@dataclass(frozen=True)
class Server:
    base_url: str
    data_dir: Path
    db: str

    def cli(self, *args: str) -> str:
        """Run a ``mayknow`` command against the same store, as an operator would."""
        done = subprocess.run(  # noqa: S603 - our own command line
            [
                sys.executable,
                "-m",
                "mayknow",
                *args,
                "--db",
                self.db,
                "--data-dir",
                str(self.data_dir),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(db: str | None = None) -> Iterator[Server]:
    """Start the server (a fresh SQLite store unless ``db`` names one) and stop it after."""
    with tempfile.TemporaryDirectory(prefix="mayknow-replay-") as tmp:
        data_dir = Path(tmp) / "data"
        url = db or f"sqlite:///{data_dir / 'mayknow.db'}"
        port = _free_port()
        log = (Path(tmp) / "server.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [
                sys.executable,
                "-m",
                "mayknow",
                "serve",
                "--dev",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                "--db",
                url,
                "--trusted-proxy",
                "127.0.0.1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base, process, Path(tmp) / "server.log")
            yield Server(base, data_dir, url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def _wait(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")
