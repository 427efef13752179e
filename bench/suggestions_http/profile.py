"""Where one GET /v1/suggestions spends its time, in-process and single-threaded.

For each profiled viewer (a random subset of the signed-in sample), on the same store
the server used, with the server stopped (no other load from this benchmark):

- the service call as the route makes it (``SuggestionService.suggestions``), and its
  steps timed one by one by a mirror of ``SuggestionService._ranked`` / ``_show`` in
  src (same calls, same order, one read session; keep it in step with src when that
  changes): settings, each source, exclusions, ranking, names;
- the response model (pydantic validate + JSON), the session lookup, and the whole ASGI
  app (middleware, dependencies, thread hops) without sockets;
- the SQL statements per request, counted on the engine.

Compared with the HTTP latencies of the run, the difference is HTTP, uvicorn, the
event loop and queueing between two workers on two shared cores.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import event, select

from bench.http.breakdown import asgi_caller
from bench.suggestions_http.store import Prepared
from bench.suggestions_http.viewers import Viewer
from mayknow import bootstrap, config
from mayknow.accounts.sessions import Principal
from mayknow.consent.domain import Purpose, Setting
from mayknow.db import prepared as driver_reads
from mayknow.entrypoints.api.app import create_app
from mayknow.entrypoints.api.schemas import Suggestions
from mayknow.suggestions.domain import Kind as K
from mayknow.suggestions.domain import Reason, gather, rank
from mayknow.suggestions.models import FofCandidate

T = TypeVar("T")
STEPS = (
    "session lookup (authenticate)",
    "settings (suggestions_enabled)",
    "source: in your contacts",
    "source: has you in contacts",
    "source: follows you (all fans)",
    "source: fof_candidates rows",
    "exclusions (following, blocks, dismissals, opted out)",
    "gather + rank (pure)",
    "names + reasons (_show)",
    "response model (pydantic validate + JSON)",
)


@dataclass
class Profile:
    viewers: int = 0
    steps: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    service: list[float] = field(default_factory=list)  # SuggestionService.suggestions
    app: list[float] = field(default_factory=list)  # whole ASGI app, no sockets
    statements: list[int] = field(default_factory=list)  # SQL statements per service call
    sizes: list[tuple[float, int, int, int]] = field(default_factory=list)  # ms, fans, fof, follow

    def rows(self) -> list[tuple[str, float, float]]:
        """(step, median ms, p90 ms) over the profiled viewers."""

        def q(values: list[float], p: float) -> float:
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if values else 0.0

        out = [(name, statistics.median(v) * 1000, q(v, 0.9)) for name, v in self.steps.items()]
        out.append(("sum of the steps above", sum(r[1] for r in out), sum(r[2] for r in out)))
        for label, values in (
            ("service call as the route makes it (suggestions(), limit 20)", self.service),
            ("whole ASGI app in-process: GET /v1/suggestions", self.app),
        ):
            out.append((label, statistics.median(values) * 1000, q(values, 0.9)))
        return out


def _timed(bucket: list[float], fn: Callable[[], T]) -> T:
    started = time.perf_counter()
    value = fn()
    bucket.append(time.perf_counter() - started)
    return value


def _mirror(c: bootstrap.Container, principal: Principal, prof: Profile) -> None:
    """SuggestionService.suggestions(principal, 20), step by step (see the docstring)."""
    svc, viewer, s = c.suggestions, principal.user_id, prof.steps
    with c.uow.read() as session:
        enabled = _timed(s[STEPS[1]], lambda: c.consent.settings_in(session, viewer))
        found: list[tuple[int, Reason]] = []

        def contacts() -> None:
            if c.consent.allows_in(session, viewer, Purpose.CONTACTS_UPLOAD):
                ids = c.contacts.contacts_of(session, viewer)
                granted = c.consent.granted_among(session, ids, Purpose.DISCOVERABLE_BY_PHONE)
                found.extend((u, Reason(K.IN_YOUR_CONTACTS)) for u in granted)

        def holders() -> None:
            if c.consent.allows_in(session, viewer, Purpose.SUGGEST_FROM_OTHERS_CONTACTS):
                ids = c.contacts.uploaders_holding(session, viewer)
                agreed = c.consent.granted_among(session, ids, Purpose.SUGGEST_ME_TO_MY_CONTACTS)
                found.extend((u, Reason(K.HAS_YOU_IN_CONTACTS)) for u in agreed)

        def fof() -> list[FofCandidate]:
            query = select(FofCandidate).where(FofCandidate.viewer_id == viewer)
            return list(session.scalars(query))

        _timed(s[STEPS[2]], contacts)
        _timed(s[STEPS[3]], holders)
        fans = _timed(s[STEPS[4]], lambda: c.graph.fan_ids(session, viewer))
        found.extend((u, Reason(K.FOLLOWS_YOU)) for u in fans)
        rows = _timed(s[STEPS[5]], fof)
        for row in rows:
            via = tuple(v for v in (row.via1, row.via2, row.via3) if v is not None)
            found.append(
                (row.candidate_id, Reason(K.MUTUAL_CONNECTIONS, row.mutual_count, via, row.score))
            )
        if not enabled[Setting.SUGGESTIONS_ENABLED]:
            found = []
        candidates = gather(iter(found))
        excluded = _timed(
            s[STEPS[6]],
            lambda: svc._excluded(session, viewer, set(candidates)),
        )
        ranked = _timed(s[STEPS[7]], lambda: rank(candidates, excluded, svc.weights)[:20])
        shown = _timed(s[STEPS[8]], lambda: svc._show(session, ranked))
    _timed(
        s[STEPS[9]],
        lambda: Suggestions.model_validate(
            {"suggestions": [x.__dict__ for x in shown]}
        ).model_dump_json(exclude_none=True),
    )
    prof.sizes.append((0.0, len(fans), len(rows), len(excluded)))


@contextmanager
def _counting(c: bootstrap.Container) -> Iterator[list[int]]:
    """A running count of SQL statements (on for every timed call alike): those through
    SQLAlchemy's execution path, and the hot reads mayknow hands straight to the driver."""
    count = [0]

    def on_execute(*_: Any) -> None:
        count[0] += 1

    straight = driver_reads.Prepared.all

    def counted(self: driver_reads.Prepared, *args: Any, **kwargs: Any) -> list[Any]:
        count[0] += 1
        return straight(self, *args, **kwargs)

    event.listen(c.engine, "before_cursor_execute", on_execute)
    driver_reads.Prepared.all = counted  # type: ignore[method-assign]
    try:
        yield count
    finally:
        driver_reads.Prepared.all = straight  # type: ignore[method-assign]
        event.remove(c.engine, "before_cursor_execute", on_execute)


async def _app_pass(app: Any, viewers: list[Viewer], bucket: list[float]) -> None:
    """The whole ASGI app per viewer, in one event loop (as in a worker)."""
    for v in viewers:
        call = asgi_caller(app, "/v1/suggestions", v.token)
        started = time.perf_counter()
        await call()
        bucket.append(time.perf_counter() - started)


def profile(store: Prepared, viewers: list[Viewer], rounds: int = 3) -> Profile:
    """Each viewer ``rounds`` times (the first round warms caches and is not kept)."""
    settings = config.load({"db": store.url, "data_dir": store.data_dir}, environ={})
    c = bootstrap.build(settings, migrate=False)
    app = create_app(c)
    prof = Profile(viewers=len(viewers))
    try:
        with _counting(c) as count:
            for k in range(rounds):
                kept = Profile() if k == 0 else prof
                for v in viewers:
                    _one(c, v, kept, count)
                asyncio.run(_app_pass(app, viewers, kept.app))
    finally:
        c.engine.dispose()
    return prof


def _one(c: bootstrap.Container, v: Viewer, kept: Profile, count: list[int]) -> None:
    principal = _timed(kept.steps[STEPS[0]], lambda: c.accounts.authenticate(v.token))
    if principal is None:
        raise RuntimeError("a benchmark session did not authenticate")
    # the service call first, then its mirror, so that neither warms the other's cache
    before = count[0]
    _timed(kept.service, lambda: c.suggestions.suggestions(principal, 20))
    kept.statements.append(count[0] - before)
    _mirror(c, principal, kept)
    fans, fof, excluded = kept.sizes[-1][1:]
    kept.sizes[-1] = (kept.service[-1] * 1000, fans, fof, excluded)


def slowest(prof: Profile, n: int = 5) -> list[str]:
    """The slowest service calls and what those viewers had (sizes only, no ids)."""
    return [
        f"{ms:.1f} ms: {fans:,} fans, {fof} fof rows, {excl:,} excluded (follows etc.)"
        for ms, fans, fof, excl in sorted(prof.sizes, reverse=True)[:n]
    ]


def as_markdown(prof: Profile) -> str:
    lines = [
        "| step (in-process, one thread) | median ms | p90 ms |",
        "|---|---|---|",
        *(f"| {name} | {med:.2f} | {p90:.2f} |" for name, med, p90 in prof.rows()),
    ]
    stmts = sorted(prof.statements)
    lines += [
        "",
        f"SQL statements per service call: median {stmts[len(stmts) // 2]}, "
        f"max {stmts[-1]} ({prof.viewers} viewers, 2 kept rounds each).",
        "Slowest service calls: " + "; ".join(slowest(prof)) + ".",
    ]
    return "\n".join(lines)
