"""The built-in HTTP/1.1 load generator: closed-loop and fixed-rate open-loop.

Runs as its own process (run.py starts it; it never runs inside the server), speaks plain
HTTP/1.1 with keep-alive over loopback and prints one JSON line to stdout.

Open loop: request k is *due* at t0 + k/rate whether or not earlier answers came back, and
its latency is measured from that due time, not from when a connection was free to send it.
Time spent waiting for a connection, or behind a slow generator, therefore counts as
latency: no coordinated omission. ``sched_lag_ms`` reports how late the generator itself
handed requests out, so that a slow generator is seen rather than blamed on the server.

Closed loop: each of C connections sends, waits for the answer, sends again.

Standard library only (uvloop is used when installed). Every loop is bounded in time and
in count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TARGETS = ("health", "me", "follow", "suggestions")
REQUEST_TIMEOUT_S = 10.0
MAX_CLOSED_RPS = 200_000  # hard cap on requests per second of a closed-loop run
clock = time.perf_counter  # not loop.time(): uvloop's clock has 1 ms resolution


def announce() -> None:
    """Tell run.py (on stderr) that the measured window starts now."""
    print("MEASURING", file=sys.stderr, flush=True)


class RequestMaker:
    """Builds the raw bytes of one request for a target, with random callers."""

    def __init__(
        self, target: str, host: str, port: int, accounts: list[tuple[str, str]], rng: random.Random
    ) -> None:
        if target != "health" and len(accounts) < 2:
            raise SystemExit(f"target {target!r} needs at least 2 accounts in --tokens")
        self.target, self.accounts, self.rng = target, accounts, rng
        self.host = f"Host: {host}:{port}\r\n"

    def __call__(self) -> bytes:
        if self.target == "health":
            return f"GET /v1/health HTTP/1.1\r\n{self.host}\r\n".encode()
        n = len(self.accounts)
        i = self.rng.randrange(n)
        auth = f"Authorization: Bearer {self.accounts[i][1]}\r\n"
        if self.target == "me":
            return f"GET /v1/me HTTP/1.1\r\n{self.host}{auth}\r\n".encode()
        if self.target == "suggestions":  # bench/suggestions_http: random viewer, default limit
            return f"GET /v1/suggestions HTTP/1.1\r\n{self.host}{auth}\r\n".encode()
        j = self.rng.randrange(n - 1)
        j += j >= i  # anyone but the follower
        path = f"/v1/follows/{self.accounts[j][0]}"
        return f"POST {path} HTTP/1.1\r\n{self.host}{auth}Content-Length: 0\r\n\r\n".encode()


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects after an error or a close."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, data: bytes) -> int:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            self.writer.write(data)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, chunked, close = 0, False, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif name == b"connection" and b"close" in value.lower():
                    close = True
            if chunked:
                await self._skip_chunks()
            elif length:
                await self.reader.readexactly(length)
            if close:
                self.close()
            return status

    async def _skip_chunks(self) -> None:
        assert self.reader is not None
        for _ in range(100_000):  # bounded: a chunked body of at most this many chunks
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await self.reader.readexactly(size + 2)
            if size == 0:
                return
        raise RuntimeError("too many chunks")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, successful answers only
    service: list[float] = field(default_factory=list)  # send -> answer (open loop)
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: Counter[str] = field(default_factory=Counter)
    unfinished: int = 0
    sched_lag_max: float = 0.0
    first_due: float = 0.0
    last_done: float = 0.0

    async def one(self, conn: Connection, data: bytes, due: float) -> None:
        sent = clock()
        try:
            status = await conn.request(data)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ValueError,
            RuntimeError,
        ) as exc:
            conn.close()
            self.socket_errors[type(exc).__name__] += 1
            return
        done = clock()
        self.last_done = max(self.last_done, done)
        self.statuses[status] += 1
        if 200 <= status < 300:
            self.latencies.append(done - due)
            self.service.append(done - sent)


async def closed_loop(
    make: RequestMaker, host: str, port: int, seconds: float, connections: int, warmup: float
) -> tuple[Tally, float]:
    """C connections, each sending its next request as soon as the last one is answered.

    During the warm-up the connections join one by one (over its first half), as a
    client population would, rather than in one burst: with uvicorn's shared listening
    socket a burst of connects tends to land on one worker. Only requests sent after the
    warm-up are counted.
    """
    tally, ignored = Tally(), Tally()
    start = clock()
    measure_from = start + warmup
    deadline = measure_from + seconds
    cap = int(MAX_CLOSED_RPS * (seconds + warmup) / connections) + 1

    async def client(k: int) -> None:
        await asyncio.sleep(k * warmup / 2 / connections)
        conn = Connection(host, port)
        try:
            for _ in range(cap):
                now = clock()
                if now >= deadline:
                    return
                await (tally if now >= measure_from else ignored).one(conn, make(), now)
        finally:
            conn.close()

    asyncio.get_running_loop().call_later(warmup, announce)
    await asyncio.gather(*(client(k) for k in range(connections)))
    return tally, seconds


async def ramp_up(host: str, port: int, connections: int, seconds: float) -> list[Connection]:
    """Open C connections one by one over ``seconds`` while each already-open one keeps
    sending GET /v1/health: a busy worker accepts more slowly than an idle one, so the
    connections end up spread over uvicorn's workers instead of landing on one."""
    conns = [Connection(host, port) for _ in range(connections)]
    health = RequestMaker("health", host, port, [], random.Random(0))
    deadline = clock() + seconds
    ignored = Tally()

    async def keep_busy(k: int) -> None:
        await asyncio.sleep(k * seconds / 2 / connections)
        for _ in range(int(MAX_CLOSED_RPS * seconds) + 1):
            if clock() >= deadline:
                return
            await ignored.one(conns[k], health(), clock())

    await asyncio.gather(*(keep_busy(k) for k in range(connections)))
    return conns


async def open_loop(
    make: RequestMaker,
    host: str,
    port: int,
    seconds: float,
    connections: int,
    rate: float,
    warmup: float,
) -> tuple[Tally, float]:
    tally = Tally()
    total = max(1, int(rate * seconds))
    conns = (
        await ramp_up(host, port, connections, warmup)
        if warmup
        else [Connection(host, port) for _ in range(connections)]
    )
    # Idle connections wait on the queue in FIFO order, so requests rotate over all of them.
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    t0 = clock() + 0.05
    tally.first_due = t0
    announce()

    async def dispatcher() -> None:
        k = 0
        while k < total:  # bounded: exactly `total` requests are handed out
            now = clock()
            while k < total and t0 + k / rate <= now:
                due = t0 + k / rate
                tally.sched_lag_max = max(tally.sched_lag_max, now - due)
                queue.put_nowait((due, make()))
                k += 1
            if k < total:
                await asyncio.sleep(max(0.0, t0 + k / rate - clock()))
        for _ in range(connections):
            queue.put_nowait(None)

    async def client(conn: Connection) -> None:
        try:
            for _ in range(total + 1):
                item = await queue.get()
                if item is None:
                    return
                await tally.one(conn, item[1], item[0])
        finally:
            conn.close()

    drain = seconds + 2 * REQUEST_TIMEOUT_S
    tasks = [asyncio.ensure_future(dispatcher())] + [
        asyncio.ensure_future(client(conn)) for conn in conns
    ]
    _, pending = await asyncio.wait(tasks, timeout=drain)
    for task in pending:
        task.cancel()
    tally.unfinished = total - sum(tally.statuses.values()) - sum(tally.socket_errors.values())
    return tally, max(tally.last_done - t0, 1e-9)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-q * len(sorted_values) // 100)))  # ceil
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(tally: Tally, duration: float, mode: str, rate: float | None) -> dict[str, object]:
    lat = sorted(tally.latencies)
    ms = {
        f"p{str(q).replace('.', '')}": round(percentile(lat, q) * 1000, 3)
        for q in (50, 90, 99, 99.9)
    }
    ms["max"] = round(lat[-1] * 1000, 3) if lat else float("nan")
    ms["mean"] = round(sum(lat) / len(lat) * 1000, 3) if lat else float("nan")
    service = sorted(tally.service)
    answered = sum(tally.statuses.values())
    bad_status = sum(n for s, n in tally.statuses.items() if not 200 <= s < 300)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "tool": "builtin",
        "mode": mode,
        "rate": rate,
        "duration_s": round(duration, 3),
        "requests": answered,
        "ok": len(lat),
        "rps": round(len(lat) / duration, 1) if duration > 0 else 0.0,
        "errors": bad_status + sum(tally.socket_errors.values()) + tally.unfinished,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "socket_errors": dict(tally.socket_errors),
        "unfinished": tally.unfinished,
        "latency_ms": ms,
        "service_ms": {
            "p50": round(percentile(service, 50) * 1000, 3),
            "p99": round(percentile(service, 99) * 1000, 3),
        },
        "sched_lag_max_ms": round(tally.sched_lag_max * 1000, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
    }


def load_accounts(path: Path | None) -> list[tuple[str, str]]:
    if path is None:
        return []
    accounts = []
    for line in path.read_text().splitlines():
        user_id, _, token = line.partition(" ")
        if user_id and token:
            accounts.append((user_id, token))
    return accounts


async def run(args: argparse.Namespace) -> dict[str, object]:
    make = RequestMaker(
        args.target, args.host, args.port, load_accounts(args.tokens), random.Random(args.seed)
    )
    if args.mode == "closed":
        tally, duration = await closed_loop(
            make, args.host, args.port, args.seconds, args.connections, args.warmup
        )
        return summarize(tally, duration, "closed", None)
    tally, duration = await open_loop(
        make, args.host, args.port, args.seconds, args.connections, args.rate, args.warmup
    )
    return summarize(tally, duration, "open", args.rate)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--target", choices=TARGETS, required=True)
    p.add_argument("--mode", choices=("closed", "open"), required=True)
    p.add_argument("--tokens", type=Path, help="file of 'user_id token' lines")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--rate", type=float, default=500.0, help="open loop: requests per second")
    p.add_argument(
        "--warmup",
        type=float,
        default=0.0,
        help="seconds of connection ramp-up and warm-up before measuring",
    )
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if args.host not in {"127.0.0.1", "localhost", "::1"}:
        p.error("only loopback addresses may be loaded")
    if not (
        0 < args.seconds <= 3600
        and 0 < args.connections <= 1024
        and 0 < args.rate <= 100_000
        and 0 <= args.warmup <= 600
    ):
        p.error("seconds, connections or rate out of range")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runner = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    hard_limit = args.warmup + args.seconds + 3 * REQUEST_TIMEOUT_S + 10
    started = time.monotonic()
    result = runner(asyncio.wait_for(run(args), timeout=hard_limit))
    result["wall_s"] = round(time.monotonic() - started, 3)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
