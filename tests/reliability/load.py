"""A bounded mixed load on loopback: sync, suggestions, follow and me at a fixed rate
against ``mayknow serve --workers 2`` (production mode), on SQLite or PostgreSQL.

    .venv/bin/python -m tests.reliability.load --seconds 60 --rate 200
    .venv/bin/python -m tests.reliability.load --seconds 60 --rate 200 --db postgresql+psycopg://...

The schedule is open-loop: request i is due at start + i/rate whatever happened before,
and its latency is counted from when it was due, so a server that falls behind shows it
(no coordinated omission). Every request has a 10 s timeout; the run stops by itself.
The PostgreSQL database named is emptied first: give it a throwaway one.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine

from mayknow.db.engine import make_engine
from mayknow.db.migrate import upgrade
from tests.conftest import Member
from tests.reliability.population import enrol, grant
from tests.reliability.server import Server, seeding_container, serving

KINDS = ("sync", "suggestions", "follow", "me")
PURPOSES = [
    "contacts_upload",
    "discoverable_by_phone",
    "suggest_me_to_my_contacts",
    "suggest_from_others_contacts",
]
TIMEOUT = 10.0


@dataclass
class Result:
    kind: str
    status: int  # 0: no answer (timeout, refused connection)
    latency: float  # seconds from when the request was due


@dataclass
class Report:
    store: str
    workers: int
    rate: float
    seconds: float
    results: list[Result] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if not 200 <= r.status < 300)

    def percentile(self, q: float, kind: str | None = None) -> float:
        values = sorted(r.latency for r in self.results if kind in (None, r.kind))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    def row(self) -> str:
        done = len(self.results)
        return (
            f"| {self.store} | {self.workers} | {self.rate:g}/s for {self.seconds:g} s | "
            f"{done} | {done / self.elapsed:.1f}/s | {self.percentile(0.5):.1f} | "
            f"{self.percentile(0.99):.1f} | {self.errors} |"
        )

    def kinds(self) -> str:
        parts = [
            f"{k} p50 {self.percentile(0.5, k):.1f} / p99 {self.percentile(0.99, k):.1f} ms"
            for k in KINDS
        ]
        failed = Counter(r.status for r in self.results if not 200 <= r.status < 300)
        errors = ", ".join(f"{n} x {s or 'no answer in 10 s'}" for s, n in sorted(failed.items()))
        return "; ".join(parts) + f"; errors: {errors or 'none'}"


HEADER = (
    "| store | workers | offered load | requests | throughput | p50 ms | p99 ms | errors |\n"
    "|---|---|---|---|---|---|---|---|"
)


def populate(data_dir: Path, database_url: str, engine: Engine, size: int) -> list[Member]:
    """``size`` members who upload, may be found and suggested, with some follows."""
    container = seeding_container(data_dir, database_url, engine)
    members = [enrol(container, f"+86139877{i:05d}", f"负载{i}") for i in range(size)]
    rng = random.Random(7)
    for member in members:
        grant(container, member, PURPOSES)
    for member in members:
        for other in rng.sample(members, 5):
            if other is not member:
                container.graph.follow(member.user_id, other.user_id)
    engine.dispose()
    return members


def _request(
    http: httpx.Client, kind: str, member: Member, rng: random.Random, pool: list[Member]
) -> int:
    headers = member.auth
    if kind == "sync":
        book = [m.phone for m in rng.sample(pool, 40)] + [
            f"+86137866{rng.randrange(100_000):05d}" for _ in range(10)
        ]
        return http.post("/v1/contacts/sync", json={"phones": book}, headers=headers).status_code
    if kind == "suggestions":
        return http.get("/v1/suggestions", headers=headers).status_code
    if kind == "follow":
        target = rng.choice(pool).user_id
        if target == member.user_id:
            target = pool[0].user_id if member is not pool[0] else pool[1].user_id
        return http.post(f"/v1/follows/{target}", headers=headers).status_code
    return http.get("/v1/me", headers=headers).status_code


def drive(base: str, members: list[Member], rate: float, seconds: float, report: Report) -> None:
    """Send rate*seconds requests on schedule; wait for the last answer (bounded)."""
    total = int(rate * seconds)
    rng = random.Random(42)
    plan = [(rng.choice(KINDS), rng.choice(members), random.Random(i)) for i in range(total)]
    lock = threading.Lock()
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    with (
        httpx.Client(base_url=base, timeout=TIMEOUT, limits=limits) as http,
        ThreadPoolExecutor(max_workers=128) as pool,
    ):
        start = time.perf_counter()

        def one(i: int) -> None:
            kind, member, local = plan[i]
            try:
                status = _request(http, kind, member, local, members)
            except httpx.HTTPError:
                status = 0
            latency = time.perf_counter() - (start + i / rate)
            with lock:
                report.results.append(Result(kind, status, latency))

        for i in range(total):
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            pool.submit(one, i)
        pool.shutdown(wait=True)
        report.elapsed = time.perf_counter() - start


@contextmanager
def load_server(
    workdir: Path, database_url: str, workers: int, members: int
) -> Iterator[tuple[Server, list[Member]]]:
    engine = make_engine(database_url)
    upgrade(engine)
    people = populate(workdir / "data", database_url, engine, members)
    server = Server(
        workdir / "data", database_url, workdir / "server.log", dev=False, workers=workers
    )
    with serving(server):
        yield server, people


def run(
    database_url: str, rate: float, seconds: float, workers: int, members: int, workdir: Path
) -> Report:
    store = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    report = Report(store, workers, rate, seconds)
    with load_server(workdir, database_url, workers, members) as (server, people):
        drive(server.base, people, rate, seconds, report)
    return report


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=200, help="requests a second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--db", default="", help="a throwaway PostgreSQL URL; default SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'load.db'}"
        if url.startswith("postgresql"):
            _empty_postgres(url)
        report = run(url, args.rate, args.seconds, args.workers, args.members, Path(tmp))
    print(HEADER)
    print(report.row())
    print(report.kinds())


if __name__ == "__main__":
    main()
