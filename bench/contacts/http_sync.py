"""Whole-request latency of ``POST /v1/contacts/sync`` against ``mayknow serve --workers 2``.

    python bench/contacts/http_sync.py --accounts 1000000 [--iterations 300] [--db URL]

(Named http_sync.py, not http.py: a module named ``http`` in this folder would shadow the
standard library's ``http`` for any script run from here, and with it httpx and uvicorn.)

The server is started with bench/http's harness (``bench.http.run.Server``: the same
command line, environment and shutdown as the HTTP benchmark), on 127.0.0.1, not --dev.
Uploaders get a fresh session each run, in-process through mayknow's sessions module; their
old edges, quotas and the rate counters are reset first. The requests are then sent by
``http_client.py`` from a second process: each a fresh random book of 1,000 numbers (30%
members), round robin over the uploaders (at most 40 books each: the quota is 50,000 new
numbers). Each answer is checked: exactly the book's members must match.

Reported: p50/p90/p99/max of the whole request at concurrency 1 (one request at a time:
the latency a user sees on an idle server) and 2 (both workers busy), server CPU per
request (all server processes, from /proc), and server memory: the RSS of the two workers
summed, sampled every 100 ms, the largest sum seen, and the supervisor process apart.

It also times ``POST /v1/contacts/private/evaluate`` with 1,000 blinded elements (made by
the client side of mayknow's OPRF), for the server CPU per evaluated contact over HTTP.
The per-address limit is 20,000 elements per hour, so at most 15 such requests are sent.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import machine as host
from bench.contacts import common, seed

CLIENT = common.HERE / "http_client.py"
PER_UPLOADER = 40
WARMUP = 10
EVALUATE_MAX = 15


def harness() -> Any:
    """bench/http's run module (another helper's harness), imported rather than copied."""
    try:
        from bench.http import run as http_run
    except Exception as exc:  # pragma: no cover - depends on the other benchmark
        raise SystemExit(
            f"bench/http/run.py is not importable ({exc!r}); this benchmark "
            "starts the server with its Server class"
        ) from exc
    return http_run


class MemorySampler:
    """Largest summed RSS of the workers (and of the supervisor), sampled every 100 ms."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.workers_max = 0
        self.supervisor_max = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pids = self.server.worker_pids()  # once: walking /proc every 100 ms would cost CPU
        for _ in range(100_000):  # bounded: about 3 hours at 10 samples a second
            workers = sum(common.rss_bytes(pid) for pid in pids)
            self.workers_max = max(self.workers_max, workers)
            self.supervisor_max = max(self.supervisor_max, common.rss_bytes(self.server.proc.pid))
            if self._stop.wait(0.1):
                return

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _write_requests(path: Path, jobs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(job) + "\n" for job in jobs))


def sync_jobs(
    rng: random.Random, accounts: int, tokens: list[tuple[int, str]], count: int
) -> list[dict[str, Any]]:
    if count > PER_UPLOADER * len(tokens):
        raise SystemExit(f"{count} requests need more than {len(tokens)} uploaders")
    jobs = []
    for i in range(count):
        book = common.make_book(rng, accounts)
        jobs.append(
            {
                "path": "/v1/contacts/sync",
                "token": tokens[i % len(tokens)][1],
                "body": json.dumps({"phones": book.raw}),
                "key": "matched",
                "expect": book.members,
            }
        )
    return jobs


def evaluate_jobs(
    rng: random.Random, accounts: int, tokens: list[tuple[int, str]], count: int
) -> list[dict[str, Any]]:
    from mayknow.identity import oprf

    jobs = []
    for i in range(count):
        book = common.make_book(rng, accounts)
        elements = [oprf.blind(e164.encode())[1] for e164 in book.e164]
        jobs.append(
            {
                "path": "/v1/contacts/private/evaluate",
                "token": tokens[i % len(tokens)][1],
                "body": json.dumps({"elements": [base64.b64encode(e).decode() for e in elements]}),
                "key": "evaluated",
                "expect": len(elements),
            }
        )
    return jobs


def drive(
    server: Any,
    workdir: Path,
    name: str,
    jobs: list[dict[str, Any]],
    concurrency: int,
    timeout: float,
) -> dict[str, Any]:
    """Run http_client.py on ``jobs`` from its own process; add the server's CPU and memory."""
    requests = workdir / f"{name}.jsonl"
    _write_requests(requests, jobs)
    tree = harness().process_tree(server.proc.pid)
    cpu0 = host.cpu_seconds(tree)
    with MemorySampler(server) as memory:
        done = subprocess.run(
            [
                sys.executable,
                str(CLIENT),
                "--port",
                str(server.port),
                "--requests",
                str(requests),
                "--concurrency",
                str(concurrency),
                "--deadline",
                str(timeout),
            ],
            capture_output=True,
            text=True,
            timeout=timeout + 180,
            check=False,
        )
    cpu1 = host.cpu_seconds(tree)
    if done.returncode != 0:
        raise RuntimeError(f"http_client.py failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    if result["errors"]:
        raise RuntimeError(
            f"{name}: {sum(result['errors'].values())} failed requests: "
            f"{result['errors']}\nserver log:\n{server.tail()}"
        )
    ok = len(result["latencies_ms"])
    result.update(
        summary=common.summary(result.pop("latencies_ms")),
        concurrency=concurrency,
        server_cpu_ms_per_request=1000 * (cpu1 - cpu0) / max(1, ok),
        server_cpu_s=cpu1 - cpu0,
        workers_rss_max=memory.workers_max,
        supervisor_rss_max=memory.supervisor_max,
        rps=ok / result["wall_s"] if result["wall_s"] else 0.0,
    )
    return result


def measure(
    store: seed.Store,
    iterations: int,
    *,
    concurrencies: tuple[int, ...] = (1, 2),
    evaluations: int = EVALUATE_MAX,
    warmup: int = WARMUP,
    seed_value: int = 2,
    say: seed.Progress = print,
) -> dict[str, Any]:
    http_run = harness()
    rng = random.Random(seed_value)
    workdir = Path(tempfile.mkdtemp(prefix="mayknow-contacts-http-"))
    results: dict[str, Any] = {"sync": {}, "evaluate": None}
    try:
        tokens = seed.fresh_sessions(store, store.uploaders)
        server = http_run.Server(store, workdir, 2)
        try:
            server.wait_ready(timeout=180)
            say(f"  server ready at {server.base}, workers {server.worker_pids()}")
            timeout = max(120.0, 2.0 * iterations)
            drive(
                server,
                workdir,
                "warmup",
                sync_jobs(rng, store.accounts, tokens, warmup),
                1,
                timeout,
            )
            for c in concurrencies:
                tokens = seed.fresh_sessions(store, store.uploaders)  # full quotas, no edges
                say(f"  POST /v1/contacts/sync x {iterations}, concurrency {c} ...")
                jobs = sync_jobs(rng, store.accounts, tokens, iterations)
                results["sync"][c] = drive(server, workdir, f"sync-c{c}", jobs, c, timeout)
            if evaluations:
                tokens = seed.fresh_sessions(store, store.uploaders)
                count = min(evaluations, EVALUATE_MAX)
                say(f"  POST /v1/contacts/private/evaluate x {count} (1,000 elements) ...")
                jobs = evaluate_jobs(rng, store.accounts, tokens, count)
                results["evaluate"] = drive(server, workdir, "evaluate", jobs, 1, timeout)
            results["workers_rss_idle"] = sum(common.rss_bytes(pid) for pid in server.worker_pids())
        finally:
            server.stop()
            with contextlib.suppress(Exception):
                seed.fresh_sessions(store, store.uploaders)  # leave no edges behind
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def report(rows: list[tuple[str, int, dict[str, Any]]]) -> str:
    head = [
        "database",
        "accounts",
        "concurrency",
        "n",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "req/s",
        "server CPU ms/req",
        "workers RSS max (sum of 2)",
        "supervisor RSS",
    ]
    out = []
    for db, accounts, r in rows:
        for c, run in sorted(r["sync"].items()):
            s = run["summary"]
            out.append(
                [
                    db,
                    common.human(accounts),
                    c,
                    s["n"],
                    common.fmt_ms(s["p50"]),
                    common.fmt_ms(s["p90"]),
                    common.fmt_ms(s["p99"]),
                    common.fmt_ms(s["max"]),
                    f"{run['rps']:.1f}",
                    f"{run['server_cpu_ms_per_request']:.1f}",
                    f"{run['workers_rss_max'] / 2**20:.0f} MiB",
                    f"{run['supervisor_rss_max'] / 2**20:.0f} MiB",
                ]
            )
    return (
        "POST /v1/contacts/sync, 1,000 numbers (30% members), `mayknow serve --workers 2`, "
        "client in its own process\n\n" + common.table(head, out)
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--db", default="sqlite")
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    args = p.parse_args(argv)
    if not 1 <= args.iterations <= 1000:
        p.error("--iterations must be in 1..1000 (quota: 40 books per uploader, 32 uploaders)")
    if args.db == "sqlite":
        store = seed.sqlite_store(args.accounts, args.cache_dir)
    else:
        store = seed.postgres_store(args.db, args.accounts, args.cache_dir)
    result = measure(store, args.iterations)
    print(report([(store.kind, store.accounts, result)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
