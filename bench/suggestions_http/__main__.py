"""GET /v1/suggestions over HTTP on a 1M-member store, 2 workers, fixed 200 requests/s.

    python -m bench.suggestions_http                  # SQLite (cached store), appends results
    python -m bench.suggestions_http --db postgresql  # a throwaway PostgreSQL cluster
    python -m bench.suggestions_http --quick          # 2,000 members, 5 s at 20/s; no record
    python -m bench.suggestions_http --quick --db postgresql   # the same on a throwaway cluster

See README.md beside this file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import bench.http.run as http_run
from bench import machine
from bench.suggestions_http import check, drive, report, store, viewers
from bench.suggestions_http import profile as prof

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.suggestions_http", description=__doc__)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--users", type=int, default=1_000_000, help="members in the store")
    p.add_argument("--viewers", type=int, default=2000, help="signed-in random viewers")
    p.add_argument("--rate", type=float, default=200.0, help="offered requests per second")
    p.add_argument("--seconds", type=float, default=60.0, help="length of each measured run")
    p.add_argument("--warmup", type=float, default=10.0, help="unmeasured suggestions run, s")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--check", type=int, default=300, help="viewers whose answers are checked")
    p.add_argument("--profile-viewers", type=int, default=200, help="0: no in-process profile")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--cache", type=Path, default=store.CACHE)
    p.add_argument("--rebuild", action="store_true", help="reload the cached SQLite store")
    p.add_argument("--keep-pg", action="store_true", help="leave the PostgreSQL cluster running")
    p.add_argument(
        "--reuse-pg",
        action="store_true",
        help="resume the cluster a --keep-pg run left loaded instead of loading afresh",
    )
    p.add_argument("--results", type=Path, default=HERE / "results.md")
    p.add_argument("--quick", action="store_true", help="tiny smoke run (CI); records nothing")
    args = p.parse_args(argv)
    args.keep_pg = args.keep_pg or args.reuse_pg  # a resumed cluster is kept again
    if args.quick:
        args.users, args.viewers, args.rate, args.seconds = 2000, 100, 20.0, 5.0
        args.warmup, args.check, args.profile_viewers, args.connections = 1.0, 100, 10, 8
    if not (
        2 <= args.viewers <= args.users <= 10_000_000
        and 0 < args.rate <= 5000
        and 0 < args.seconds <= 600
        and 0 <= args.warmup <= 120
        and 1 <= args.connections <= 256
    ):
        p.error("an option is out of range")
    return args


def _on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds every finally: server, sessions, cluster


def prepare(args: argparse.Namespace, stack: contextlib.ExitStack, workdir: Path) -> store.Prepared:
    if args.db == "postgresql":
        # not in the 0700 temp dir: the cluster runs as the postgres user
        pg = store.postgresql(args.users, args.cache, say, keep=args.keep_pg, reuse=args.reuse_pg)
        return stack.enter_context(pg)
    if args.quick:
        return store.sqlite_temp(args.users, workdir, say)
    return store.sqlite(args.users, args.cache, say, rebuild=args.rebuild)


def describe(prepared: store.Prepared, args: argparse.Namespace) -> str:
    info = prepared.info
    counts = info.get("counts", {})
    what = ", ".join(f"{k} {v:,}" for k, v in counts.items()) if isinstance(counts, dict) else ""
    if prepared.kind == "sqlite":
        head = f"SQLite {sqlite3.sqlite_version} (WAL), cached store"
    else:
        head = "PostgreSQL (throwaway cluster, scripts/pg-throwaway: fsync off)"
        with contextlib.suppress(Exception):
            from sqlalchemy import create_engine, text

            engine = create_engine(prepared.url)
            with engine.connect() as conn:
                head = head.replace(
                    "PostgreSQL", f"PostgreSQL {conn.scalar(text('SHOW server_version'))}"
                )
            engine.dispose()
    timing = ", ".join(
        f"{k.removesuffix('_s')} {v:,.0f} s" for k, v in info.items() if k.endswith("_s")
    )
    return f"{head}; {args.users:,} members: {what}; prepared in: {timing}"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def benchmark(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="mayknow-sugg-http-"))  # 0700
    stack.callback(shutil.rmtree, workdir, ignore_errors=True)
    started = time.perf_counter()
    prepared = prepare(args, stack, workdir)
    say(f"store ready in {time.perf_counter() - started:.0f} s: {prepared.url}")
    started = time.perf_counter()
    members = viewers.sample(prepared.population, args.viewers, args.seed)
    signed = viewers.sign_in(
        prepared.url, prepared.data_dir, members, lambda n, t: say(f"  signed in {n:,}/{t:,}")
    )
    if (prepared.kind == "sqlite" and not args.quick) or args.keep_pg:
        # a store that outlives the run keeps no sessions
        stack.callback(viewers.revoke, prepared.url, prepared.data_dir, signed)
    login_s = time.perf_counter() - started
    say(f"{len(signed):,} viewers signed in through the account service in {login_s:.0f} s")
    tokens = workdir / "tokens.txt"
    viewers.write_tokens(signed, tokens)
    cache_note = "PostgreSQL's files as the load left them"
    if prepared.kind == "sqlite":
        warm_s = machine.warm_file_cache(Path(prepared.url.removeprefix("sqlite:///")))
        cache_note = f"the store file read once into the kernel's file cache ({warm_s:.0f} s)"
        say(f"{cache_note}: a server that has been up a while has its pages cached")
    before = os.getloadavg()  # after the preparation, just before the server starts
    quiet = http_run.quiet_machine(say)
    say(f"load average before: {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}; {quiet}")
    server = drive.serve(prepared, workdir, workers=2)
    stack.callback(server.stop)
    server.wait_ready(timeout=180.0)
    say(f"server ready at {server.base}, workers {server.worker_pids()}")
    checked = check.check(server.base, signed[: args.check])
    say(checked.summary())
    db_root = drive.postmaster_pid(prepared.cluster)
    ramp = 1.0 if args.quick else 3.0  # each run's connection ramp-up (health), unmeasured
    if args.warmup:
        say(f"warm-up: GET /v1/suggestions at {args.rate:g}/s for {args.warmup:g} s")
        drive.drive(server, tokens, "suggestions", args.rate, args.warmup, ramp=ramp)
    runs = []
    for target in ("health", "suggestions"):
        say(f"run: {target} at {args.rate:g}/s for {args.seconds:g} s")
        runs.append(
            drive.drive(
                server,
                tokens,
                target,
                args.rate,
                args.seconds,
                connections=args.connections,
                ramp=ramp,
                db_root=db_root,
            )
        )
        r = runs[-1]
        say(
            f"  {r.rps:,.1f} req/s, p50 {r.ms('p50'):.2f} ms, p99 {r.ms('p99'):.2f} ms, "
            f"errors {r.data['errors']}, {r.cpu_ms:.2f} ms CPU/req, load {r.loadavg[0]:.2f}"
        )
    server.stop()
    profile_md = "(not profiled)"
    if args.profile_viewers:
        say(f"profiling {args.profile_viewers} viewers in-process ...")
        profiled = prof.profile(prepared, signed[: args.profile_viewers])
        profile_md = prof.as_markdown(profiled)
    print(f"\n{report.table(runs)}\n")
    print("\n".join(report.verdict(runs, checked)))
    print(f"\n{profile_md}")
    failed = not checked.ok or any(r.data["errors"] or r.overloaded for r in runs)
    if args.quick:
        say("(quick: results.md left alone)")
        return 1 if failed else 0
    setup = [
        *report.machine_lines(describe(prepared, args), before, quiet),
        f"- server: `mayknow serve --workers 2` on 127.0.0.1 (not --dev); {len(signed):,} "
        f"random viewers signed in via AccountService.login ({login_s:.0f} s); load: "
        f"bench/http/loadgen.py, open loop, {args.connections} connections, "
        f"{args.warmup:g} s unmeasured warm-up of /v1/suggestions, then each run "
        f"{args.seconds:g} s at {args.rate:g}/s; before the server started: {cache_note}",
    ]
    title = f"{prepared.kind}, {args.users:,} members, {args.rate:g} req/s"
    report.append(args.results, report.block(title, setup, runs, checked, profile_md))
    say(f"appended to {args.results}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    with contextlib.ExitStack() as stack:
        return benchmark(args, stack)


if __name__ == "__main__":
    sys.exit(main())
