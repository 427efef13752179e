"""Where the time of a sync goes: py-spy over the matching step, sync(), or the server.

    python bench/contacts/profile.py --accounts 1000000 --what match   # _match in-process
    python bench/contacts/profile.py --accounts 1000000 --what sync    # ContactService.sync
    python bench/contacts/profile.py --accounts 1000000 --what server  # both workers, HTTP

Needs py-spy in the venv (``.venv/bin/pip install py-spy``). ``match`` and ``sync`` run a
loop of fresh 1,000-number books in a child process under ``py-spy record``; ``server``
starts ``mayknow serve --workers 2`` (bench/http's harness) and records both workers
(``--gil``: only the thread holding the GIL, i.e. Python CPU) while http_client.py sends
syncs. The raw profiles are summarised two ways: the share of samples whose stack passes
through each step of a sync (inclusive), and self time by component (bench/http's
profile_summary.py, imported). A share of samples is a share of CPU time.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.contacts import common, http_sync, seed

Frames = list[str]


def _has(name: str) -> Callable[[Frames], bool]:
    return lambda frames: any(f.startswith(name + " ") for f in frames)


def _inside(outer: str, inner: str, without: str = "") -> Callable[[Frames], bool]:
    """A frame starting with ``inner`` below one starting with ``outer`` (and no ``without``)."""

    def test(frames: Frames) -> bool:
        below = False
        for f in frames:
            if without and f.startswith(without + " "):
                return False
            if f.startswith(outer + " "):
                below = True
            elif below and f.startswith(inner + " "):
                return True
        return False

    return test


STEPS: list[tuple[str, Callable[[Frames], bool]]] = [
    ("ContactService.sync (the service call)", _has("ContactService.sync")),
    ("  require_upload_consent", _has("ContactService.require_upload_consent")),
    ("  _parse: parse_book + parse_mobile (phonenumbers)", _has("ContactService._parse")),
    ("  take_permits (quota row)", _has("ContactService.take_permits")),
    ("  _match", _has("ContactService._match")),
    ("    KeyRing.phone_pseudonyms (HMAC)", _has("KeyRing.phone_pseudonyms")),
    (
        "    IN lookup (Session.execute of users)",
        _inside("ContactService._match", "Session.execute", without="ConsentService.granted_among"),
    ),
    ("    consent.granted_among", _has("ConsentService.granted_among")),
    ("  edge_ids", _has("ContactService.edge_ids")),
    ("  remove_edges", _has("ContactService.remove_edges")),
    ("  add_edges", _has("ContactService.add_edges")),
    ("  commit", _inside("ContactService.sync", "SessionTransaction.commit")),
    ("auth: AccountService.authenticate", _has("AccountService.authenticate")),
    ("request body: JSON + pydantic validation", _has("request_body_to_args")),
    ("response: serialize_response", _has("serialize_response")),
    ("HTTP: uvicorn protocol", lambda fr: any("(uvicorn/" in f for f in fr)),
]


def summarize(files: list[Path]) -> str:
    from bench.http import profile_summary

    samples = [s for f in files for s in profile_summary.parse(f)]
    total = sum(count for _, count in samples)
    if not total:
        return "no samples"
    steps: Counter[str] = Counter()
    selfs: Counter[str] = Counter()
    for frames, count in samples:
        selfs[profile_summary.component(frames)] += count
        for name, test in STEPS:
            if test(frames):
                steps[name] += count
    lines = [f"{total:,} samples", "", "| inclusive: stacks through | share |", "|---|---|"]
    lines += [f"| {name} | {steps[name] / total:.1%} |" for name, _ in STEPS if steps[name]]
    lines += ["", "| self time by component | share |", "|---|---|"]
    lines += [f"| {name} | {n / total:.1%} |" for name, n in selfs.most_common(14)]
    return "\n".join(lines)


def child(args: argparse.Namespace) -> int:
    """The loop py-spy records: ``--what match`` or ``sync`` over fresh books."""
    from sqlalchemy import select

    store = seed.sqlite_store(args.accounts, args.cache_dir, say=lambda _m: None)
    rng = random.Random(11)
    books = [common.make_book(rng, store.accounts) for _ in range(args.iterations)]
    tokens = seed.fresh_sessions(store, store.uploaders)
    try:
        with seed.container_for(store) as c:
            principals = [c.accounts.authenticate(token) for _, token in tokens]
            started = time.perf_counter()
            for i, book in enumerate(books):
                if args.what == "match":
                    with c.uow.write() as session:
                        session.execute(select(1))
                        c.contacts._match(session, {e: n for n, e in enumerate(book.e164)})
                else:
                    c.contacts.sync(principals[i % len(principals)], book.raw, None)
            per = (time.perf_counter() - started) / len(books) * 1000
            print(f"{args.what}: {per:.1f} ms per book (wall, under py-spy)", file=sys.stderr)
    finally:
        seed.fresh_sessions(store, store.uploaders)
    return 0


def spy() -> Path:
    path = Path(sys.executable).parent / "py-spy"
    if not path.exists():
        raise SystemExit(f"needs py-spy: {sys.executable} -m pip install py-spy")
    return path


def profile_inprocess(args: argparse.Namespace, out: Path) -> list[Path]:
    target = out / f"{args.what}.txt"
    command = [
        str(spy()),
        "record",
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        str(target),
        "--",
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--what",
        args.what,
        "--accounts",
        str(args.accounts),
        "--iterations",
        str(args.iterations),
        "--cache-dir",
        str(args.cache_dir),
    ]
    subprocess.run(command, check=True, timeout=3600, stdout=subprocess.DEVNULL)
    return [target]


def profile_server(args: argparse.Namespace, out: Path) -> list[Path]:
    store = seed.sqlite_store(args.accounts, args.cache_dir)
    tokens = seed.fresh_sessions(store, store.uploaders)
    workdir = Path(tempfile.mkdtemp(prefix="mayknow-contacts-profile-"))
    server = http_sync.harness().Server(store, workdir, 2)
    files: list[Path] = []
    try:
        server.wait_ready(timeout=180)
        rng = random.Random(12)
        count = min(args.iterations, http_sync.PER_UPLOADER * len(tokens))
        jobs = http_sync.sync_jobs(rng, store.accounts, tokens, count)
        seconds = max(5, round(count * 0.25))
        spies: list[subprocess.Popen[bytes]] = []
        for n, pid in enumerate(server.worker_pids(), 1):
            files.append(out / f"server-worker{n}.txt")
            spies.append(
                subprocess.Popen(
                    [
                        str(spy()),
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(seconds),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--gil",
                        "--nonblocking",
                        "--output",
                        str(files[-1]),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(1.0)
        result: dict[str, Any] = http_sync.drive(server, workdir, "profile", jobs, 1, 600.0)
        print(f"server: p50 {result['summary']['p50']:.1f} ms while profiled", file=sys.stderr)
        for proc in spies:
            proc.wait(timeout=seconds + 60)
    finally:
        server.stop()
        seed.fresh_sessions(store, store.uploaders)
    return [f for f in files if f.exists()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--what", choices=("match", "sync", "server"), default="sync")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    p.add_argument("--out", type=Path, help="where the raw profiles go (default: a temp dir)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 1 <= args.iterations <= 1200:
        p.error("--iterations must be in 1..1200 (the uploaders' quotas)")
    if args.child:
        return child(args)
    out = args.out or Path(tempfile.mkdtemp(prefix="mayknow-contacts-prof-"))
    out.mkdir(parents=True, exist_ok=True)
    files = profile_server(args, out) if args.what == "server" else profile_inprocess(args, out)
    print(f"### Profile: {args.what}, {args.accounts:,} accounts ({out})\n")
    print(summarize(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
