"""Serve the store with ``mayknow serve --workers 2`` and drive fixed-rate load at it.

The server, the CPU meters and the generator are bench/http's (``run.Server``,
``run.Meter``, ``loadgen.py`` with its ``suggestions`` target): the same production
start-up (no --dev, no MAYKNOW_* variables), the same open loop (latency from when each
request was due), the same accounting of server CPU from /proc of the workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import bench.http.run as http_run
from bench.suggestions_http.store import Prepared

LOADGEN = http_run.HERE / "loadgen.py"


@dataclass(frozen=True)
class StoreRef:
    """What ``http_run.Server`` reads of a store."""

    url: str
    data_dir: Path


def serve(store: Prepared, workdir: Path, workers: int) -> http_run.Server:
    """Start the server (the caller stops it, and waits with ``wait_ready``)."""
    return http_run.Server(
        cast(http_run.Store, StoreRef(store.url, store.data_dir)), workdir, workers
    )


@dataclass
class Run:
    target: str  # health | suggestions
    rate: float
    seconds: float
    data: dict[str, Any]
    worker_cores: list[float]
    loadgen_cores: float
    machine_cores: float
    db_cores: float | None
    loadavg: tuple[float, float, float]  # at the end of the run
    split: list[int] = field(default_factory=list)  # connections per worker, mid-run

    @property
    def rps(self) -> float:
        return float(self.data["rps"])

    @property
    def cpu_ms(self) -> float:
        """Server (workers') CPU per answered request, ms."""
        return 1000 * sum(self.worker_cores) / self.rps if self.rps else float("nan")

    @property
    def db_cpu_ms(self) -> float | None:
        return None if self.db_cores is None or not self.rps else 1000 * self.db_cores / self.rps

    @property
    def other_cores(self) -> float:
        mine = sum(self.worker_cores) + self.loadgen_cores + (self.db_cores or 0.0)
        return max(0.0, self.machine_cores - mine)

    @property
    def overloaded(self) -> bool:
        return self.rps < 0.95 * self.rate or int(self.data.get("unfinished", 0)) > 0

    def ms(self, key: str) -> float:
        return float(self.data["latency_ms"][key])


def postmaster_pid(cluster: Path | None) -> int | None:
    if cluster is None:
        return None
    pidfile = cluster / "data" / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


def drive(
    server: http_run.Server,
    tokens: Path,
    target: str,
    rate: float,
    seconds: float,
    *,
    connections: int = 32,
    ramp: float = 3.0,
    db_root: int | None = None,
) -> Run:
    """One open-loop run in its own generator process, at ``nice -5`` when allowed."""
    cmd = [
        sys.executable,
        str(LOADGEN),
        "--port",
        str(server.port),
        "--target",
        target,
        "--mode",
        "open",
        "--tokens",
        str(tokens),
        "--seconds",
        f"{seconds:g}",
        "--connections",
        str(connections),
        "--rate",
        f"{rate:g}",
        "--warmup",
        f"{ramp:g}",
    ]
    meter = http_run.Meter(server, server.worker_pids(), db_root)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=http_run._niceness(-5),
    )
    try:
        early = http_run._await_measuring(proc)
        meter.start()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=seconds / 2)  # then count the connections per worker
        split = http_run._connections_by_pid(server.port, meter.workers)
        stdout, stderr = proc.communicate(timeout=seconds + 90)
        cpu = meter.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    if proc.returncode != 0:
        raise RuntimeError(
            f"loadgen failed ({proc.returncode}): {(''.join(early) + stderr)[-2000:]}"
        )
    load1, load5, load15 = os.getloadavg()
    return Run(
        target,
        rate,
        seconds,
        json.loads(stdout.strip().splitlines()[-1]),
        worker_cores=cpu["worker_cores"],
        loadgen_cores=cpu["loadgen_cores"],
        machine_cores=cpu["machine_cores"],
        db_cores=cpu["db_cores"],
        loadavg=(load1, load5, load15),
        split=list(split.values()),
    )
