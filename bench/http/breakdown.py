"""Where one request's time goes, layer by layer, in-process and single-threaded.

    python bench/http/breakdown.py [--users N] [--iterations K]

No sockets, no concurrency: each row is the median wall time of one call, repeated K times
after a warm-up, on a fresh SQLite store seeded like run.py's (fictional numbers). The app
rows call mayknow's real ASGI app (middleware, routing, dependencies, thread pool, pydantic)
directly, so they are the per-request cost before HTTP parsing and socket writes.

The "what if" row adds a bench-only route to an in-memory instance of the app (src/ is not
touched): the same service calls in one hop through the thread pool, which is how the
route runs them on PostgreSQL (on SQLite its reads run on the event loop).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import anyio.to_thread  # noqa: E402
import seed as seeding  # noqa: E402
from fastapi import Request  # noqa: E402
from sqlalchemy import text  # noqa: E402

from mayknow import bootstrap, config  # noqa: E402
from mayknow.accounts.domain import token_hash  # noqa: E402
from mayknow.accounts.models import User  # noqa: E402
from mayknow.entrypoints.api.app import create_app  # noqa: E402
from mayknow.entrypoints.api.schemas import Me  # noqa: E402
from mayknow.identity.phone import mask  # noqa: E402


def timed(fn: Callable[[], object], n: int) -> float:
    """Median seconds of one call."""
    for _ in range(min(200, n)):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def atimed(fn: Callable[[], Awaitable[object]], n: int) -> float:
    for _ in range(min(200, n)):
        await fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def asgi_caller(app: Any, path: str, token: str | None) -> Callable[[], Awaitable[None]]:
    headers = [(b"host", b"127.0.0.1")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def call() -> None:
        status = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(dict(scope), receive, send)
        if status != [200]:
            raise RuntimeError(f"{path}: {status}")

    return call


def add_what_if_routes(app: Any, c: bootstrap.Container) -> None:
    """A bench-only variant of GET /v1/me on this in-memory app instance: the same services
    in one hop through the thread pool, as the route runs them on PostgreSQL."""

    def one_hop_body(token: str) -> dict[str, object]:
        principal = c.accounts.authenticate(token)
        assert principal is not None
        return dict(c.location.profile(principal, "127.0.0.1", "zh-CN"))

    @app.get("/bench/me-one-hop")
    async def me_one_hop(request: Request) -> Me:
        token = request.headers["authorization"].partition(" ")[2]
        return Me.model_validate(await anyio.to_thread.run_sync(one_hop_body, token))


def service_rows(c: bootstrap.Container, token: str, n: int) -> list[tuple[str, float]]:
    principal = c.accounts.resolve(token)
    assert principal is not None
    with c.uow.read() as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        ciphertext = user.phone_ciphertext
    e164 = c.keys.decrypt(ciphertext).decode()
    profile = c.accounts.profile(principal)

    def empty_connection() -> None:
        with c.uow.reads() as db:
            db.execute(text("SELECT 1"))

    return [
        (
            "service: resolve (session lookup, read only)",
            timed(lambda: c.accounts.resolve(token), n),
        ),
        (
            "service: stored_profile (user, consent, city: 1 connection)",
            timed(lambda: c.location.stored_profile(principal, "zh-CN"), n),
        ),
        ("  for scale: a Core connection that runs SELECT 1", timed(empty_connection, n)),
        ("  of which: KeyRing.decrypt (phone)", timed(lambda: c.keys.decrypt(ciphertext), n)),
        ("  of which: identity.phone.mask", timed(lambda: mask(e164), n)),
        ("  of which: token_hash (SHA-256)", timed(lambda: token_hash(token), n)),
        (
            "pydantic: Me.model_validate(profile).model_dump_json()",
            timed(lambda: Me.model_validate({**profile, "city": None}).model_dump_json(), n),
        ),
    ]


async def app_rows(c: bootstrap.Container, token: str, n: int) -> list[tuple[str, float]]:
    app = create_app(c)
    add_what_if_routes(app, c)
    rows = [
        (
            "thread hop: anyio.to_thread.run_sync(no-op)",
            await atimed(lambda: anyio.to_thread.run_sync(lambda: None), n),
        )
    ]
    for label, path, tok in [
        ("app: GET /v1/health (async route, no thread hop)", "/v1/health", None),
        ("app: GET /v1/me as in src/ (SQLite: reads on the event loop)", "/v1/me", token),
        ("what if: the same in one thread hop (the PostgreSQL path)", "/bench/me-one-hop", token),
    ]:
        rows.append((label, await atimed(asgi_caller(app, path, tok), n)))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Per-layer cost of one request, in-process.")
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--iterations", type=int, default=2000)
    args = p.parse_args(argv)
    if not (2 <= args.users <= 20_000 and 10 <= args.iterations <= 100_000):
        p.error("out of range")
    workdir = Path(tempfile.mkdtemp(prefix="mayknow-breakdown-"))
    try:
        url = f"sqlite:///{workdir / 'mayknow.db'}"
        seeded = seeding.seed(url, workdir, args.users)
        c = bootstrap.build(config.load({"db": url, "data_dir": workdir}, environ={}))
        token = seeded.accounts[len(seeded.accounts) // 2][1]
        rows = service_rows(c, token, args.iterations)
        runner: Callable[..., Any] = asyncio.run
        with contextlib.suppress(ImportError):
            import uvloop

            runner = uvloop.run  # as uvicorn uses it
        rows += runner(app_rows(c, token, args.iterations))
        c.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"| step (median of {args.iterations} calls, one thread) | µs |")
    print("|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds * 1e6:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
