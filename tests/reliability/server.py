"""A real ``mayknow serve`` on loopback for the crash, concurrency and load tests: start,
stop, SIGKILL, restart; its log is appended under the test's tmp (the log check reads it).
Also: seeding a store in-process before the server starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine

from mayknow import bootstrap, config
from mayknow.accounts.sms import OutboxSender
from mayknow.bootstrap import Container

STARTUP_SECONDS = 180  # a loaded 2-core machine imports slowly


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    database_url: str
    log: Path
    dev: bool = True
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        args = ["serve", "--port", str(self.port), *self._store()]
        if self.dev:
            args.append("--dev")
        else:
            args += ["--workers", str(self.workers)]
        return [sys.executable, "-m", "mayknow", *args]

    def _store(self) -> list[str]:
        return ["--data-dir", str(self.data_dir), "--db", self.database_url]

    def start(self) -> None:
        with self.log.open("ab") as sink:
            env = {
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "PYTHONFAULTHANDLER": "1",  # SIGABRT writes every thread's stack to the log
                "MAYKNOW_PURGE_INTERVAL_MINUTES": "0",
            }
            self.process = subprocess.Popen(
                self._command(), stdout=sink, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        os.kill(self.process.pid, signal.SIGABRT)  # where is it stuck? (into the log)
        self.process.wait(timeout=20)
        raise RuntimeError(f"the server did not start in time: {self.log.read_text()[-5000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback, no flush; the store must cope."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)
        self.process = None

    def mayknow(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "mayknow", *args, *self._store()]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def seeding_container(data_dir: Path, database_url: str, engine: Engine) -> Container:
    """The services over the store the server will use (same key file), with an outbox."""
    settings = config.Settings(data_dir=data_dir, db=database_url, dev=True)
    return bootstrap.build(settings, sms=OutboxSender(), engine=engine, migrate=False)
