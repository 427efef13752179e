"""Where one request's time goes, layer by layer, in-process and single-threaded.

    python bench/http/breakdown.py [--users N] [--iterations K]

No sockets, no concurrency: each row is the median wall time of one call, repeated K times
after a warm-up, on a fresh SQLite store seeded like run.py's (fictional numbers). The app
rows call mayknow's real ASGI app (middleware, routing, dependencies, thread pool, pydantic)
directly, so they are the per-request cost before HTTP parsing and socket writes.

The "what if" rows add bench-only routes to an in-memory instance of the app (src/ is not
touched) to price the changes that the profile suggests:
- the same service calls behind an async route, all sync work in one thread hop instead
  of one hop per sync dependency and route;
- a lower bound: the session lookup and the user row in one DB session, without the
  city's consent and settings reads.
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
from mayknow.accounts import sessions  # noqa: E402
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
    """Bench-only variants of GET /v1/me on this in-memory app instance."""

    location = getattr(c, "location", None)  # GET /v1/me's service since the city came

    def one_hop_body(token: str) -> dict[str, object]:
        principal = c.accounts.authenticate(token)
        assert principal is not None
        if location is not None:
            return dict(location.profile(principal, "127.0.0.1", "zh-CN"))
        return {**c.accounts.profile(principal), "city": None}

    def one_session_body(token: str) -> dict[str, object]:
        now = c.clock.now()
        with c.uow.read() as session:
            principal = sessions.resolve(session, token, now, c.accounts.policy.session_idle)
            assert principal is not None
            user = session.get(User, principal.user_id)
            assert user is not None
            return {
                "user_id": user.id,
                "nickname": user.nickname,
                "phone_masked": mask(c.keys.decrypt(user.phone_ciphertext).decode()),
            }

    def bearer(request: Request) -> str:
        return request.headers["authorization"].partition(" ")[2]

    @app.get("/bench/me-one-hop")
    async def me_one_hop(request: Request) -> Me:
        body = await anyio.to_thread.run_sync(one_hop_body, bearer(request))
        return Me.model_validate(body)

    @app.get("/bench/me-one-hop-one-session")
    async def me_one_session(request: Request) -> Me:
        body = await anyio.to_thread.run_sync(one_session_body, bearer(request))
        return Me(**body, city=None)  # type: ignore[arg-type]

    @app.get("/bench/async-health")
    async def async_health() -> dict[str, str]:
        return {"status": "ok", "version": "bench"}


def service_rows(c: bootstrap.Container, token: str, n: int) -> list[tuple[str, float]]:
    principal = c.accounts.authenticate(token)
    assert principal is not None
    with c.uow.read() as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        ciphertext = user.phone_ciphertext
    e164 = c.keys.decrypt(ciphertext).decode()
    profile = c.accounts.profile(principal)

    def empty_session() -> None:
        with c.uow.read() as session:
            session.execute(text("SELECT 1"))

    return [
        (
            "service: authenticate (session lookup, 1 DB session)",
            timed(lambda: c.accounts.authenticate(token), n),
        ),
        (
            "service: profile (user by id + decrypt + mask, 1 DB session)",
            timed(lambda: c.accounts.profile(principal), n),
        ),
        ("  of which: a DB session that runs SELECT 1 (open/BEGIN/close)", timed(empty_session, n)),
        ("  of which: KeyRing.decrypt (phone)", timed(lambda: c.keys.decrypt(ciphertext), n)),
        ("  of which: identity.phone.mask (phonenumbers)", timed(lambda: mask(e164), n)),
        ("  of which: token_hash (SHA-256)", timed(lambda: token_hash(token), n)),
        (
            "pydantic: Me(**profile).model_dump_json()",
            timed(lambda: Me(**profile, city=None).model_dump_json(), n),
        ),  # type: ignore[arg-type]
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
        ("app: GET /v1/health (sync route: 1 thread hop)", "/v1/health", None),
        ("what if: async health (0 thread hops)", "/bench/async-health", None),
        (
            "app: GET /v1/me as in src/ now (async route, one thread hop)",
            "/v1/me",
            token,
        ),
        (
            "what if: same services, async route, all sync work in 1 thread hop",
            "/bench/me-one-hop",
            token,
        ),
        (
            "what if: 1 hop, 1 DB session: session lookup + user row only (no city reads)",
            "/bench/me-one-hop-one-session",
            token,
        ),
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
