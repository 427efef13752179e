"""The client side of the whole-request benchmarks: runs as its own process, never in a server.

    python bench/contacts/http_client.py --port P --requests FILE [--concurrency 1]

FILE holds one JSON object per line: ``path``, ``token`` (bearer), ``body`` (the JSON text
to POST) and optionally ``key`` and ``expect``: after the answer, ``len(answer[key])`` must
equal ``expect`` (the members in the book), so a wrong answer is counted, not timed as a
success. Each of ``--concurrency`` threads keeps one keep-alive HTTP/1.1 connection
(``http.client``, standard library) and sends its share of the requests one after another;
the latency of a request is from just before it is sent to the last byte of its answer.
Prints one JSON line. Loopback only; every loop is bounded by the file and ``--deadline``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _worker(
    host: str,
    port: int,
    jobs: list[dict[str, Any]],
    latencies: list[float],
    errors: Counter[str],
    end: float,
) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=120)
    try:
        for job in jobs:
            if time.monotonic() > end:
                errors["deadline"] += 1
                continue
            body = job["body"].encode()
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {job['token']}",
            }
            try:
                t0 = time.perf_counter()
                conn.request("POST", job["path"], body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                t1 = time.perf_counter()
            except (OSError, http.client.HTTPException) as exc:
                errors[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=120)
                continue
            if response.status != 200:
                errors[f"status {response.status}: {data[:200].decode(errors='replace')}"] += 1
                continue
            if "key" in job:
                got = len(json.loads(data)[job["key"]])
                if got != job["expect"]:
                    errors[f"{got} matches instead of {job['expect']}"] += 1
                    continue
            latencies.append((t1 - t0) * 1000)
    finally:
        conn.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    jobs = [json.loads(line) for line in args.requests.read_text().splitlines() if line]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    end = time.monotonic() + args.deadline
    shares = [jobs[i :: args.concurrency] for i in range(args.concurrency)]
    threads = [
        threading.Thread(target=_worker, args=(args.host, args.port, share, latencies, errors, end))
        for share in shares
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.deadline + 130)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "latencies_ms": latencies,
        "sent": len(jobs),
        "errors": dict(errors),
        "wall_s": wall,
        "client_cpu_s": usage.ru_utime + usage.ru_stime,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--requests", type=Path, required=True)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--deadline", type=float, default=600.0, help="seconds for the whole run")
    args = p.parse_args(argv)
    if args.host not in LOOPBACK:
        p.error("only loopback addresses")
    if not (1 <= args.concurrency <= 64 and 0 < args.deadline <= 7200):
        p.error("--concurrency or --deadline out of range")
    print(json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
