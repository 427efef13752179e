"""HTTP benchmark of mayknow: seed, serve with 2 workers, load from another process, report.

    python bench/http/run.py [--db URL] [--seconds S] [--rate R] [--users N]
                             [--connections C] [--quick] [--profile DIR]

See bench/http/README.md for what each run measures and how to read the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LOOPBACK = "127.0.0.1"
WRK_INSTALL = "apt-get install -y wrk   (Debian/Ubuntu; Homebrew: brew install wrk)"
TARGET_RPS, TARGET_P99_MS = 1000.0, 25.0  # the goal for GET /v1/me on SQLite
OTHER_LOAD_WARN = 0.5  # cores busy outside server and generator that make a run suspect


def _ensure_venv() -> None:
    """Re-run under the project's venv when started with a Python that lacks mayknow."""
    try:
        import mayknow  # noqa: F401
    except ImportError:
        venv_python = ROOT / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable) != venv_python:
            os.execv(venv_python, [str(venv_python), *sys.argv])  # noqa: S606 - our venv
        raise SystemExit(
            "mayknow is not importable: run with the project's venv "
            "(.venv/bin/python bench/http/run.py)"
        ) from None


_ensure_venv()

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

sys.path.insert(0, str(HERE))
import seed as seeding  # noqa: E402

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench import machine as host  # noqa: E402

PATHS = {"health": "GET /v1/health", "me": "GET /v1/me", "follow": "POST /v1/follows/{id}"}


# -- the plan -----------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    target: str  # health | me | follow
    mode: str  # closed | open
    rate: float | None = None
    profile: bool = False

    @property
    def label(self) -> str:
        what = PATHS[self.target]
        return f"{what} @ {self.rate:g}/s" if self.mode == "open" else what


@dataclass
class Outcome:
    spec: Spec
    tool: str
    connections: int
    data: dict[str, Any]
    server_cores: float
    loadgen_cores: float
    worker_cores: list[float]
    machine_cores: float
    split: list[int]  # established connections per worker, sampled mid-run
    db_cores: float | None = None  # a local PostgreSQL's processes; None for SQLite
    notes: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return float(self.data["rps"])

    @property
    def cpu_ms(self) -> float:
        """Server CPU per answered request (all workers), in ms."""
        return 1000 * self.server_cores / self.rps if self.rps else float("nan")

    @property
    def other_cores(self) -> float:
        """Machine CPU not used by the server's workers, the database or the load generator:
        the kernel's share of loopback networking, and any other work on the machine."""
        return max(
            0.0,
            self.machine_cores - self.server_cores - self.loadgen_cores - (self.db_cores or 0.0),
        )

    @property
    def overloaded(self) -> bool:
        """An open-loop run whose offered rate the server did not keep up with."""
        return self.spec.mode == "open" and (
            self.rps < 0.95 * float(self.spec.rate or 0) or int(self.data.get("unfinished", 0)) > 0
        )

    def ms(self, key: str) -> float:
        return float(self.data["latency_ms"][key])


def plan(args: argparse.Namespace) -> list[Spec]:
    """Run order: baseline first, the writing run (follow) last so it cannot slow reads."""
    specs = [Spec("health", "closed"), Spec("me", "closed", profile=bool(args.profile))]
    for rate in dict.fromkeys((args.rate, args.target_rate)):
        if rate:
            specs += [Spec("health", "open", rate), Spec("me", "open", rate)]
    specs.append(Spec("follow", "closed", profile=bool(args.profile)))
    return specs


# -- the store ------------------------------------------------------------------------
class Store:
    """Where the benchmark's data lives; refuses to touch anything not made for it."""

    def __init__(self, url: str | None, workdir: Path, throwaway: bool) -> None:
        self.data_dir = workdir / "data"
        self.kind = "sqlite"
        self._created: set[tuple[str, str]] = set()
        self._before: set[tuple[str, str]] = set()
        self._sqlite_file: Path | None = None
        if url is None:
            self.url = f"sqlite:///{self.data_dir / 'mayknow.db'}"
            return
        self.url = url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            self._sqlite_file = Path(parsed.database or "")
            if not parsed.database or self._sqlite_file.exists():
                raise SystemExit(f"refusing: {url} is not a new SQLite file (fresh store only)")
            return
        if parsed.get_backend_name() != "postgresql":
            raise SystemExit("--db must be a SQLite or PostgreSQL URL")
        self.kind = "postgresql"
        host = parsed.host or str(parsed.query.get("host", ""))
        if host and host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("/"):
            raise SystemExit(f"refusing: {host} is not a loopback address or a local socket")
        self._guard_postgres(throwaway)

    def _tables(self) -> set[tuple[str, str]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT table_schema, table_name FROM information_schema.tables "
                        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                        "AND table_schema NOT LIKE 'pg\\_%'"
                    )
                )
                return {(r[0], r[1]) for r in rows}
        finally:
            engine.dispose()

    def _drop(self, tables: set[tuple[str, str]]) -> None:
        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                quote = conn.dialect.identifier_preparer.quote
                for schema, name in sorted(tables):
                    conn.execute(
                        text(f"DROP TABLE IF EXISTS {quote(schema)}.{quote(name)} CASCADE")
                    )
        finally:
            engine.dispose()

    def _guard_postgres(self, throwaway: bool) -> None:
        existing = self._tables()
        if existing and not throwaway:
            shown = ", ".join(f"{s}.{t}" for s, t in sorted(existing)[:5])
            raise SystemExit(
                f"refusing: the PostgreSQL database is not empty ({len(existing)} tables: "
                f"{shown}...). Give an empty database, or add --pg-throwaway if this one is "
                "a throwaway whose public schema may be wiped."
            )
        public = {t for t in existing if t[0] == "public"}
        if public:
            print(f"--pg-throwaway: dropping {len(public)} tables of schema public", flush=True)
            self._drop(public)
        self._before = existing - public

    def db_root_pid(self) -> int | None:
        """The local PostgreSQL postmaster (parent of our backend), to account its CPU."""
        if self.kind != "postgresql":
            return None
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar() or 0)
                stat = Path(f"/proc/{backend}/stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                cmdline = Path(f"/proc/{parent}/cmdline").read_bytes()
        except OSError:
            return None  # not on this machine, or not visible
        finally:
            engine.dispose()
        return parent if b"postgres" in cmdline else None

    def describe(self) -> str:
        if self.kind == "sqlite":
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version} (WAL file in a temp dir)"
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                version = conn.execute(text("SHOW server_version")).scalar()
        finally:
            engine.dispose()
        where = make_url(self.url).render_as_string(hide_password=True)
        return f"PostgreSQL {version} ({where})"

    def cleanup(self) -> None:
        """Drop exactly the tables the benchmark created; delete a SQLite file it made."""
        if self.kind == "postgresql":
            created = self._tables() - self._before
            if created:
                self._drop(created)
                print(f"dropped the {len(created)} tables the benchmark created", flush=True)
        elif self._sqlite_file is not None:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{self._sqlite_file}{suffix}").unlink()


# -- the server ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def process_tree(root: int) -> list[int]:
    """The pid and every descendant (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo and len(found) < 10_000:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU of a process tree, including children it has already reaped (cutime, cstime):
    PostgreSQL backends come and go with the pool's overflow connections."""
    reaped = 0.0
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{root}/stat").read_text().rsplit(")", 1)[1].split()
        reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return host.cpu_seconds(process_tree(root)) + reaped


class Server:
    def __init__(self, store: Store, workdir: Path, workers: int, nice: int = 0) -> None:
        self.port = free_port()
        self.base = f"http://{LOOPBACK}:{self.port}"
        self.log_path = workdir / "server.log"
        mayknow = Path(sys.executable).parent / "mayknow"
        self.command = [
            str(mayknow),
            "serve",
            "--workers",
            str(workers),
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--db",
            store.url,
            "--data-dir",
            str(store.data_dir),
        ]
        self.workers = workers
        # No MAYKNOW_* from the caller's shell: not --dev, no SMS webhook (codes are never
        # requested over HTTP here, so the server needs no sender).
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAYKNOW_")}
        env["PYTHONUNBUFFERED"] = "1"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.command,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_niceness(nice),
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
            started = self.log_path.read_text(errors="replace").count(
                "Application startup complete"
            )
            with contextlib.suppress(httpx.HTTPError):
                if (
                    started >= self.workers
                    and httpx.get(f"{self.base}/v1/health", timeout=2).status_code == 200
                ):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the server was not ready within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        pids = []
        for pid in process_tree(self.proc.pid)[1:]:
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(pid)
        return pids

    def cpu(self) -> float:
        return host.cpu_seconds(process_tree(self.proc.pid))

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful stop); SIGKILL by id to whatever of ours is left."""
        try:
            tree = process_tree(self.proc.pid)
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=15)
            if self.proc.poll() is None:  # still alive, so the group id is still ours
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            for pid in tree[1:]:  # workers that outlived their parent, checked to be ours
                with contextlib.suppress(OSError):
                    marker = f"MAYKNOW_PORT={self.port}\0".encode()  # set by `serve`
                    if marker in Path(f"/proc/{pid}/environ").read_bytes():
                        os.kill(pid, signal.SIGKILL)
        finally:
            self._log.close()


def sanity_check(server: Server, accounts: list[tuple[int, str]]) -> None:
    """Fail early, before any load, if the endpoints do not answer as the contract says."""
    with httpx.Client(base_url=server.base, timeout=10) as client:
        (uid, token), (other, _) = accounts[0], accounts[1]
        auth = {"Authorization": f"Bearer {token}"}
        checks = [
            ("GET /v1/health", client.get("/v1/health"), 200),
            ("GET /v1/me", client.get("/v1/me", headers=auth), 200),
            ("POST /v1/follows", client.post(f"/v1/follows/{other}", headers=auth), 200),
            ("GET /v1/me without token", client.get("/v1/me"), 401),
            ("GET /v1/dev/outbox (must not exist)", client.get("/v1/dev/outbox"), 404),
        ]
    for name, response, expected in checks:
        if response.status_code != expected:
            raise RuntimeError(
                f"{name}: {response.status_code}, expected {expected}: {response.text[:200]}"
            )
    me = checks[1][1].json()
    if me.get("user_id") != uid or not str(me.get("phone_masked", "")).startswith("+86 139"):
        raise RuntimeError(f"GET /v1/me answered someone else: {me}")


# -- load ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Load:
    tool: str  # builtin | wrk (closed loops; open loops always use loadgen.py)
    connections: int
    seconds: float
    warmup: float
    wrk_threads: int
    tokens: Path
    profile_dir: Path | None
    nice: int = 0  # the server's; the generator runs 5 lower (higher priority)
    db_root: int | None = None  # local PostgreSQL postmaster, whose CPU is accounted


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    return total - fields[3] - fields[4], total


def _connections_by_pid(port: int, pids: list[int]) -> dict[int, int]:
    """Established TCP connections to the server port, by the worker that holds them."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    counts = {}
    for pid in pids:
        n = 0
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    n += link.startswith("socket:[") and link[8:-1] in inodes
        counts[pid] = n
    return counts


def _niceness(value: int) -> Callable[[], None]:
    """preexec_fn that sets a child's niceness (below 0 only as root; else left as is).

    With the kernel's autogroup scheduling (sched_autogroup_enabled=1) the CPU is first
    shared fairly between sessions, and a process's nice value only counts inside its
    session. The child is started in a new session (start_new_session=True), so the
    session's own niceness (/proc/self/autogroup) is set too.
    """

    def apply() -> None:  # runs in the child after setsid, before exec; no threads here
        if value:
            with contextlib.suppress(OSError):
                Path("/proc/self/autogroup").write_text(str(value))
        with contextlib.suppress(OSError):
            os.nice(value - os.nice(0))

    return apply


def _wrk_command(load: Load, server: Server, target: str, seconds: float) -> list[str]:
    return [
        "wrk",
        "-t",
        str(load.wrk_threads),
        "-c",
        str(load.connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "wrk_mayknow.lua"),
        server.base,
        "--",
        target,
        str(load.tokens),
    ]


def _builtin_command(
    load: Load, server: Server, spec: Spec, seconds: float, warmup: float
) -> list[str]:
    cmd = [
        sys.executable,
        str(HERE / "loadgen.py"),
        "--port",
        str(server.port),
        "--target",
        spec.target,
        "--mode",
        spec.mode,
        "--tokens",
        str(load.tokens),
        "--seconds",
        f"{seconds:g}",
        "--connections",
        str(load.connections),
        "--warmup",
        f"{warmup:g}",
    ]
    return [*cmd, "--rate", f"{spec.rate:g}"] if spec.rate else cmd


def _from_wrk(stdout: str) -> dict[str, Any]:
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{stdout[-2000:]}")
    raw = json.loads(line.removeprefix("BENCHJSON "))
    duration = raw["duration_us"] / 1e6
    errors = sum(raw["errors"].values())
    ok = raw["requests"] - raw["errors"]["status"]
    lat = {k: v / 1000 for k, v in raw["latency_us"].items()}
    return {
        "tool": "wrk",
        "mode": "closed",
        "duration_s": duration,
        "requests": raw["requests"],
        "ok": ok,
        "rps": round(ok / duration, 1),
        "errors": errors,
        "statuses": raw["statuses"],
        "socket_errors": raw["errors"],
        "latency_ms": {
            "p50": lat["p50"],
            "p90": lat["p90"],
            "p99": lat["p99"],
            "p999": lat["p999"],
            "max": lat["max"],
            "mean": lat["mean"],
        },
    }


@dataclass
class Meter:
    """CPU of the load generator, of each server worker and of the whole machine."""

    server: Server
    workers: list[int]
    db_root: int | None = None
    gen: float = 0.0
    db: float = 0.0
    per_worker: dict[int, float] = field(default_factory=dict)
    busy: tuple[float, float] = (0.0, 0.0)
    wall: float = 0.0

    def start(self) -> None:
        self.gen, self.busy, self.wall = _children_cpu(), _machine_busy(), time.monotonic()
        self.per_worker = {pid: host.cpu_seconds([pid]) for pid in self.workers}
        self.db = tree_cpu_seconds(self.db_root) if self.db_root else 0.0

    def stop(self) -> dict[str, Any]:
        wall = time.monotonic() - self.wall
        busy, total = _machine_busy()
        cores = os.cpu_count() or 1
        return {
            "loadgen_cores": (_children_cpu() - self.gen) / wall,
            "worker_cores": [
                (host.cpu_seconds([pid]) - before) / wall for pid, before in self.per_worker.items()
            ],
            "machine_cores": cores * (busy - self.busy[0]) / max(1.0, total - self.busy[1]),
            "db_cores": (
                (tree_cpu_seconds(self.db_root) - self.db) / wall if self.db_root else None
            ),
        }


def drive(load: Load, server: Server, spec: Spec, seconds: float) -> Outcome:
    """One run in a separate load-generator process, with CPU accounting on both sides."""
    wrk = load.tool == "wrk" and spec.mode == "closed"
    if wrk and load.warmup > 0:  # wrk cannot warm up in the same process
        subprocess.run(
            _wrk_command(load, server, spec.target, load.warmup),
            capture_output=True,
            timeout=load.warmup + 60,
            check=False,
        )
    warmup = 0.0 if wrk else load.warmup  # loadgen.py ramps its connections up first
    cmd = (
        _wrk_command(load, server, spec.target, seconds)
        if wrk
        else _builtin_command(load, server, spec, seconds, warmup)
    )
    meter = Meter(server, server.worker_pids(), load.db_root)
    # The generator's clock must not wait behind the server's threads for a CPU.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_niceness(load.nice - 5),
    )
    try:
        early = _await_measuring(proc) if not wrk else []  # start-up and ramp-up done
        meter.start()
        spies = start_profilers(load, server, spec, seconds)
        time.sleep(seconds / 2)
        split = _connections_by_pid(server.port, meter.workers)
        stdout, stderr = proc.communicate(timeout=seconds + 90)
        stderr = "".join(early) + stderr
        cpu = meter.stop()
        finish_profilers(spies, seconds)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {stderr[-2000:]}")
    data = _from_wrk(stdout) if wrk else json.loads(stdout.strip().splitlines()[-1])
    outcome = Outcome(
        spec,
        "wrk" if wrk else "loadgen.py",
        load.connections,
        data,
        server_cores=sum(cpu["worker_cores"]),
        loadgen_cores=cpu["loadgen_cores"],
        worker_cores=cpu["worker_cores"],
        machine_cores=cpu["machine_cores"],
        split=list(split.values()),
        db_cores=cpu["db_cores"],
    )
    lag = float(data.get("sched_lag_max_ms", 0.0))
    if spec.mode == "open" and lag > 5:
        outcome.notes.append(
            f"the generator fell up to {lag:.0f} ms behind schedule (counted as latency)"
        )
    if spec.profile:
        outcome.notes.append("profiled with py-spy: numbers are not comparable")
    if outcome.other_cores > OTHER_LOAD_WARN:
        outcome.notes.append(
            f"{outcome.other_cores:.2f} cores were busy with something other than the server, "
            "the database and the load generator (kernel networking, or other work on the "
            "machine): compare with care"
        )
    return outcome


def _await_measuring(proc: subprocess.Popen[str]) -> list[str]:
    """Read the generator's stderr until it says its measured window starts (or it ends)."""
    seen: list[str] = []
    assert proc.stderr is not None
    for _ in range(1000):
        line = proc.stderr.readline()
        if not line or line.strip() == "MEASURING":
            break
        seen.append(line)
    return seen


def start_profilers(
    load: Load, server: Server, spec: Spec, seconds: float
) -> list[subprocess.Popen[bytes]]:
    if not (spec.profile and load.profile_dir):
        return []
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise SystemExit(f"--profile needs py-spy: {sys.executable} -m pip install py-spy")
    load.profile_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for n, pid in enumerate(server.worker_pids(), 1):
        out = load.profile_dir / f"{spec.target}-worker{n}.txt"
        # --gil: only the thread holding the GIL is sampled, i.e. Python CPU time. (Without
        # it py-spy counts the pool's parked threads as busy in this setting.)
        procs.append(
            subprocess.Popen(
                [
                    str(spy),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(max(1, round(seconds))),
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    "--threads",
                    "--gil",
                    "--nonblocking",
                    "--output",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def finish_profilers(procs: list[subprocess.Popen[bytes]], seconds: float) -> None:
    for proc in procs:
        try:
            proc.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# -- the report ------------------------------------------------------------------------
def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base > 0 else "n/a"


def versus_health(outcome: Outcome, outcomes: list[Outcome]) -> str:
    spec = outcome.spec
    if outcome.overloaded:
        return f"**overloaded**: {outcome.rps:,.0f} of {spec.rate:,.0f}/s answered"
    if spec.target == "health":
        return "baseline"
    base = next(
        (
            o
            for o in outcomes
            if o.spec.target == "health" and o.spec.mode == spec.mode and o.spec.rate == spec.rate
        ),
        None,
    )
    if base is None:
        return "n/a"
    if spec.mode == "closed":
        return (
            f"{_ratio(outcome.rps, base.rps)} req/s, {_ratio(outcome.cpu_ms, base.cpu_ms)} CPU/req"
        )
    if base.overloaded:
        return "n/a (health overloaded)"
    return (
        f"p50 {_ratio(outcome.ms('p50'), base.ms('p50'))}, "
        f"p99 {_ratio(outcome.ms('p99'), base.ms('p99'))}"
    )


def table(outcomes: list[Outcome]) -> str:
    head = (
        "| run | load | conns per worker | req/s | vs health | p50 ms | p90 ms | p99 ms "
        "| p99.9 ms | max ms | errors | server CPU ms/req | CPU cores: workers; db; "
        "loadgen; other |"
    )
    rows = [head, "|" + "---|" * 13]
    order = {"closed": 0, "open": 1}
    for o in sorted(
        outcomes,
        key=lambda o: (order[o.spec.mode], o.spec.rate or 0, list(PATHS).index(o.spec.target)),
    ):
        load = f"{o.spec.mode}, {o.tool}"
        workers = "+".join(f"{c:.2f}" for c in o.worker_cores)
        db = "in-process" if o.db_cores is None else f"{o.db_cores:.2f}"
        rows.append(
            f"| {o.spec.label} | {load} | {'/'.join(map(str, o.split))} | {o.rps:,.0f} | "
            f"{versus_health(o, outcomes)} | {o.ms('p50'):.2f} | {o.ms('p90'):.2f} | "
            f"{o.ms('p99'):.2f} | {o.ms('p999'):.2f} | {o.ms('max'):.1f} | "
            f"{o.data['errors']} | {o.cpu_ms:.2f} | {workers}; {db}; {o.loadgen_cores:.2f}; "
            f"{o.other_cores:.2f} |"
        )
    return "\n".join(rows)


def verdict(outcomes: list[Outcome], target_rate: float) -> list[str]:
    lines = []
    closed = next((o for o in outcomes if (o.spec.target, o.spec.mode) == ("me", "closed")), None)
    if closed:
        ok = closed.rps >= TARGET_RPS
        lines.append(
            f"- GET /v1/me closed-loop maximum: {closed.rps:,.0f} req/s "
            f"({'≥' if ok else '<'} {TARGET_RPS:,.0f}), p99 {closed.ms('p99'):.1f} "
            f"ms at {closed.connections} connections; {closed.cpu_ms:.2f} ms of "
            f"server CPU per request"
        )
    at_target = next((o for o in outcomes if o.spec == Spec("me", "open", target_rate)), None)
    if at_target:
        ok = (
            not at_target.overloaded
            and at_target.data["errors"] == 0
            and at_target.ms("p99") < TARGET_P99_MS
        )
        lines.append(
            f"- target (GET /v1/me, {target_rate:,.0f} req/s offered, p99 < {TARGET_P99_MS:g} "
            f"ms): **{'MET' if ok else 'MISSED'}**: {at_target.rps:,.0f} req/s answered, p99 "
            f"{at_target.ms('p99'):.1f} ms, {at_target.data['errors']} errors"
        )
    for o in outcomes:
        lines += [f"- {o.spec.label}: {note}" for note in o.notes]
    return lines


def machine() -> dict[str, str]:
    return {
        "nproc": host.first_line(["nproc"]),
        "cpu": host.cpu_model(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "libs": host.libraries(
            ("fastapi", "starlette", "uvicorn", "pydantic", "sqlalchemy", "psycopg")
        ),
        "commit": host.commit(),
        "wrk": host.first_line(["wrk", "--version"]) if shutil.which("wrk") else "not used",
    }


def results_block(
    outcomes: list[Outcome], args: argparse.Namespace, store_desc: str, seed_s: float, quiet: str
) -> str:
    m = machine()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            f"## {now}: {store_desc.split(' (')[0]}",
            "",
            f"- machine: {m['nproc']} CPUs (nproc), {m['cpu']}, Linux {m['kernel']}; {quiet}",
            f"- Python {m['python']}; {m['libs']}; mayknow commit {m['commit']}",
            f"- database: {store_desc}",
            f"- server: `mayknow serve --workers {args.workers}` on 127.0.0.1 (not --dev)",
            f"- load: {args.users:,} accounts (seeded in {seed_s:.0f} s), {args.connections} "
            f"connections, {args.seconds:g} s per run (closed loops after a {args.warmup:g} s "
            f"ramp-up); closed loop with "
            f"{m['wrk'] if args.tool == 'wrk' else 'bench/http/loadgen.py'}, open loop with "
            f"bench/http/loadgen.py; niceness: server {args.nice}, generator {args.nice - 5} "
            f"({'as set' if os.geteuid() == 0 or args.nice >= 5 else 'ignored below 0: not root'})",
            "",
            table(outcomes),
            "",
            *verdict(outcomes, args.target_rate),
            "",
            "",
        ]
    )


# -- main --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="HTTP benchmark of mayknow (bench/http/README.md).")
    p.add_argument(
        "--db", help="PostgreSQL URL of an EMPTY loopback database (default: SQLite in a temp dir)"
    )
    p.add_argument(
        "--pg-throwaway",
        action="store_true",
        help="the --db database is a throwaway: its public schema may be wiped",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    p.add_argument("--warmup", type=float, default=3.0, help="warm-up before closed runs")
    p.add_argument("--rate", type=float, default=500.0, help="open-loop offered req/s")
    p.add_argument(
        "--target-rate",
        type=float,
        default=TARGET_RPS,
        help="second open-loop rate, checked against the target (0: skip)",
    )
    p.add_argument("--users", type=int, default=2000, help="accounts to seed")
    p.add_argument("--connections", type=int, default=32, help="concurrent connections")
    p.add_argument("--workers", type=int, default=2, help="server processes")
    p.add_argument(
        "--tool",
        choices=("builtin", "wrk"),
        default="builtin",
        help="closed-loop load tool (open loops always use loadgen.py)",
    )
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny smoke run for CI (50 users, 2 s runs); never writes results.md",
    )
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy every worker during the closed me/follow runs; no results.md",
    )
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        metavar="N",
        help="run the server at niceness N and the generator at N-5; on a shared "
        "machine e.g. -10 (root) keeps other work from skewing the numbers",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to this long for other work on the machine to stop",
    )
    p.add_argument("--results", type=Path, default=HERE / "results.md")
    args = p.parse_args(argv)
    if args.quick:
        args.users, args.seconds, args.rate, args.target_rate = 50, 2.0, 50.0, 0.0
        args.warmup, args.connections = 1.0, min(args.connections, 8)
    if not (
        2 <= args.users <= seeding.MAX_USERS
        and 0 < args.seconds <= 600
        and 1 <= args.connections <= 1024
        and 1 <= args.workers <= 16
        and 0 < args.rate <= 20_000
        and 0 <= args.target_rate <= 20_000
        and 0 <= args.wait_quiet <= 7200
        and -15 <= args.nice <= 19
    ):
        p.error("an option is out of range")
    if args.tool == "wrk" and shutil.which("wrk") is None:
        p.error(f"--tool wrk: wrk is not installed. Install it with: {WRK_INSTALL}")
    return args


def quiet_machine(say: Callable[[str], None], seconds: float = 3.0) -> str:
    """Is anything else using the CPUs? Say so, naming the busiest processes."""

    def per_pid() -> dict[int, float]:
        out = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                out[int(entry.name)] = host.cpu_seconds([int(entry.name)])
        return out

    before, busy_before = per_pid(), _machine_busy()
    time.sleep(seconds)
    after, busy_after = per_pid(), _machine_busy()
    cores = (
        (os.cpu_count() or 1)
        * (busy_after[0] - busy_before[0])
        / max(1.0, busy_after[1] - busy_before[1])
    )
    if cores < 0.25:
        return f"quiet before the run ({cores:.2f} cores busy)"
    top = sorted(((after[p] - before.get(p, after[p])) / seconds, p) for p in after)[-3:]
    names = []
    for used, pid in reversed(top):
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            names.append(f"pid {pid} {used:.2f} cores: {cmd[:80]}")
    say(
        f"WARNING: the machine is not quiet: {cores:.2f} cores busy before the run\n  "
        + "\n  ".join(names)
    )
    return f"NOT quiet before the run: {cores:.2f} cores busy with other work"


def _on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: server, temp dirs, tables


def benchmark(
    args: argparse.Namespace, stack: contextlib.ExitStack, say: Callable[[str], None]
) -> tuple[list[Outcome], str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="mayknow-bench-"))
    stack.callback(shutil.rmtree, workdir, ignore_errors=True)
    store = Store(args.db, workdir, args.pg_throwaway)
    stack.callback(store.cleanup)
    store_desc = store.describe()
    say(f"seeding {args.users:,} accounts into {store_desc} ...")
    seeded = seeding.seed(
        store.url, store.data_dir, args.users, progress=lambda n, total: say(f"  {n:,}/{total:,}")
    )
    say(f"seeded in {seeded.seconds:.1f} s")
    tokens = workdir / "accounts.txt"  # private: the temp dir is 0700 and deleted at the end
    tokens.write_text("".join(f"{uid} {tok}\n" for uid, tok in seeded.accounts))
    tokens.chmod(0o600)
    server = Server(store, workdir, args.workers, args.nice)
    stack.callback(server.stop)
    server.wait_ready()
    say(f"server ready at {server.base} (workers {server.worker_pids()})")
    sanity_check(server, seeded.accounts)
    load = Load(
        args.tool,
        args.connections,
        args.seconds,
        args.warmup,
        args.wrk_threads,
        tokens,
        args.profile,
        args.nice,
        store.db_root_pid(),
    )
    outcomes = []
    for spec in plan(args):
        say(f"run: {spec.label} ({spec.mode} loop, {args.seconds:g} s)")
        outcomes.append(drive(load, server, spec, args.seconds))
        o = outcomes[-1]
        say(
            f"  {o.rps:,.0f} req/s, p50 {o.ms('p50'):.2f} ms, p99 {o.ms('p99'):.2f} ms, "
            f"errors {o.data['errors']}, connections per worker {o.split}, server "
            f"{o.server_cores:.2f} cores, {o.cpu_ms:.2f} ms CPU/request"
        )
    return outcomes, store_desc, seeded.seconds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    quiet = quiet_machine(say)
    deadline = time.monotonic() + args.wait_quiet
    while quiet.startswith("NOT") and time.monotonic() < deadline:
        say(f"waiting for a quiet machine (up to {deadline - time.monotonic():.0f} s more)")
        time.sleep(min(20.0, max(0.0, deadline - time.monotonic())))
        quiet = quiet_machine(say)
    with contextlib.ExitStack() as stack:
        outcomes, store_desc, seed_s = benchmark(args, stack, say)
    print(f"\n{table(outcomes)}\n")
    print("\n".join(verdict(outcomes, args.target_rate)))
    if args.quick or args.profile:
        say("(quick or profile mode: results.md left alone)")
        if args.profile:
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "profile_summary.py"),
                    *map(str, sorted(args.profile.glob("*-worker*.txt"))),
                ],
                check=False,
                timeout=120,
            )
        return 0
    block = results_block(outcomes, args, store_desc, seed_s, quiet)
    if not args.results.exists():
        args.results.write_text(RESULTS_HEADER)
    with args.results.open("a") as out:
        out.write(block)
    say(f"appended to {args.results}")
    return 0


RESULTS_HEADER = """# HTTP benchmark results

Appended by `python bench/http/run.py` (never by `--quick` or `--profile`). Each block is
one run on one machine; compare ratios ("vs health") across machines, absolute numbers
only within a block. See README.md beside this file for what each row measures.

"""

if __name__ == "__main__":
    sys.exit(main())
