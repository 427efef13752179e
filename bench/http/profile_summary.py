"""Where the server's time goes: summarize py-spy raw profiles (run.py --profile DIR).

    python bench/http/profile_summary.py DIR/me-worker1.txt DIR/me-worker2.txt ...

Files named <run>-worker<N>.txt are grouped by <run>. py-spy samples only threads that are
running (not idle, not waiting for the GIL), so a share of samples is a share of CPU time.

Two views per run:
- "self": each sample goes to the component of the innermost frame that belongs to a known
  component (DB driver, SQLAlchemy, pydantic, FastAPI, Starlette, anyio, ...);
- "inclusive": the share of samples whose stack passes through a given function (a request
  step such as the session lookup), whatever it calls.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

# (component, test on "function (path:line)"), checked for each frame from the leaf up.
_DB_LEAF = re.compile(r"^DefaultDialect\.do_(execute|executemany|execute_no_params) ")
COMPONENTS: list[tuple[str, re.Pattern[str]]] = [
    ("DB: statement in driver (sqlite3/psycopg, C)", _DB_LEAF),
    (
        "DB: connect / commit / rollback (driver)",
        re.compile(
            r"^(DefaultDialect\.(connect|do_commit|do_rollback|do_begin)|"
            r"\w*Dialect\w*\.(connect|do_commit|do_rollback)) "
        ),
    ),
    ("DB: psycopg (Python)", re.compile(r"\(psycopg/")),
    ("SQLAlchemy pool", re.compile(r"\(sqlalchemy/pool/")),
    ("SQLAlchemy ORM", re.compile(r"\(sqlalchemy/orm/")),
    ("SQLAlchemy Core/engine", re.compile(r"\(sqlalchemy/")),
    ("crypto: nacl SecretBox", re.compile(r"\(nacl/")),
    ("crypto: hmac/hashlib", re.compile(r"\((hmac|hashlib)\.py")),
    ("phonenumbers", re.compile(r"\(phonenumbers/")),
    ("pydantic", re.compile(r"\(pydantic(_core)?/")),
    ("FastAPI: dependency resolution", re.compile(r"\(fastapi/dependencies/")),
    (
        "FastAPI: response serialization",
        re.compile(r"\(fastapi/(encoders|_compat)|^serialize_response "),
    ),
    ("FastAPI: telemetry hooks", re.compile(r"\(fastapi/telemetry/")),
    ("FastAPI: routing/other", re.compile(r"\(fastapi/")),
    ("anyio: thread hand-off", re.compile(r"\(anyio/")),
    ("threading/queue", re.compile(r"\((threading|queue|concurrent/futures/\w+)\.py")),
    ("mayknow middleware", re.compile(r"\(mayknow/entrypoints/api/middleware\.py")),
    ("Starlette: routing/middleware/responses", re.compile(r"\(starlette/")),
    ("uvicorn: HTTP protocol", re.compile(r"\(uvicorn/")),
    ("asyncio event loop", re.compile(r"\(asyncio/|uvloop")),
    ("logging", re.compile(r"\(logging/")),
    ("json", re.compile(r"\(json/")),
    ("opentelemetry", re.compile(r"\(opentelemetry/")),
    ("mayknow (own code)", re.compile(r"\(mayknow/")),
]

STEPS: list[tuple[str, re.Pattern[str]]] = [
    ("request in a worker thread (anyio)", re.compile(r"^WorkerThread\.run ")),
    ("event-loop thread (uvicorn, middleware, asyncio)", re.compile(r"^MainThread$")),
    (
        "auth: AccountService.authenticate (session lookup)",
        re.compile(r"^AccountService\.authenticate "),
    ),
    ("  sessions.resolve (token hash + SELECT join)", re.compile(r"^resolve \(mayknow/")),
    ("GET /me body: AccountService.profile", re.compile(r"^AccountService\.profile ")),
    ("  KeyRing.decrypt (phone)", re.compile(r"^KeyRing\.decrypt ")),
    ("  identity.phone.mask (phonenumbers)", re.compile(r"^mask \(mayknow/")),
    ("follow body: GraphService.follow", re.compile(r"^GraphService\.follow ")),
    ("UnitOfWork.read/write (session open/close)", re.compile(r"^UnitOfWork\.(read|write) ")),
    (
        "Session.close / commit / rollback",
        re.compile(r"^(Session|SessionTransaction)\.(close|commit|rollback|__exit__) "),
    ),
    (
        "pool checkout/checkin",
        re.compile(
            r"^(_ConnectionFairy|_ConnectionRecord|"
            r"QueuePool|Pool)\.\w+ \(sqlalchemy/pool/"
        ),
    ),
    ("engine 'begin' hook (BEGIN / BEGIN IMMEDIATE)", re.compile(r"^_on_begin ")),
    ("FastAPI solve_dependencies", re.compile(r"^solve_dependencies ")),
    ("FastAPI serialize_response", re.compile(r"^serialize_response ")),
    ("SafeHeadersAndAccessLog middleware", re.compile(r"^SafeHeadersAndAccessLog\.__call__ ")),
    ("BodyLimit middleware", re.compile(r"^BodyLimit\.__call__ ")),
    ("uvicorn HTTP parsing (httptools)", re.compile(r"^HttpToolsProtocol\.data_received ")),
]


def parse(path: Path) -> list[tuple[list[str], int]]:
    samples = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        # "thread (123): MainThread" -> keep the thread name as the root frame
        frames[0] = frames[0].split(": ", 1)[-1]
        samples.append((frames, int(count)))
    return samples


def component(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in COMPONENTS:
            if pattern.search(frame):
                return name
    return f"other ({frames[-1][:60]})"


def summarize(samples: list[tuple[list[str], int]]) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    selfs: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    for frames, count in samples:
        total += count
        selfs[component(frames)] += count
        for name, pattern in STEPS:
            if any(pattern.search(frame) for frame in frames):
                steps[name] += count
    return total, selfs, steps


def report(run: str, files: list[Path]) -> str:
    samples = [s for f in files for s in parse(f)]
    total, selfs, steps = summarize(samples)
    if not total:
        return f"## {run}: no samples\n"
    lines = [
        f"## {run} ({len(files)} workers, {total:,} samples of running threads)",
        "",
        "| self time by component | share |",
        "|---|---|",
    ]
    lines += [f"| {name} | {n / total:.1%} |" for name, n in selfs.most_common(22)]
    lines += ["", "| inclusive: stacks that pass through | share |", "|---|---|"]
    lines += [f"| {name} | {steps[name] / total:.1%} |" for name, _ in STEPS]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    groups: dict[str, list[Path]] = defaultdict(list)
    for name in argv:
        path = Path(name)
        groups[path.stem.split("-worker")[0]].append(path)
    if not groups:
        print(__doc__)
        return 2
    print("\n".join(report(run, files) for run, files in sorted(groups.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
