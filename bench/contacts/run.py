"""All contact-discovery benchmarks of mayknow in one run; Markdown out, results.md appended.

    python bench/contacts/run.py --quick                      # < 1 min smoke test (CI)
    python bench/contacts/run.py --sizes 100000,1000000 --db sqlite,postgresql
    python bench/contacts/run.py --sizes 10000000 --db sqlite --no-sydent --no-psi

For each database and size: seed (cached for SQLite), the matching step in-process
(matching.py), the whole HTTP request against ``mayknow serve --workers 2`` (http_sync.py).
Then sydent at the sizes of ``--sydent-sizes`` next to mayknow's whole request (sydent.py),
and private mode: OPRF CPU, the filter at each SQLite size, OpenMined PSI at ``--psi-size``
(private.py). Every target of the issue is checked against what this run measured.

``--quick``: 2,000 accounts, 20 iterations, SQLite in a temp dir, no sydent, no PSI, a small
false-positive count; writes no results; exits non-zero if anything breaks.
See README.md beside this file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _ensure_venv() -> None:
    """Re-run under the project's venv when started with a Python that lacks mayknow."""
    try:
        import mayknow  # noqa: F401
    except ImportError:
        venv_python = ROOT / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable) != venv_python:
            os.execv(venv_python, [str(venv_python), *sys.argv])  # noqa: S606 - our venv
        raise SystemExit("mayknow is not importable: run with the project's venv") from None


if __name__ == "__main__":
    _ensure_venv()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import machine  # noqa: E402
from bench.contacts import common, http_sync, matching, private, seed, sydent, whatif  # noqa: E402

PG_THROWAWAY = ROOT / "scripts" / "pg-throwaway"
TARGET_MATCH_P50, TARGET_MATCH_P99 = 5.0, 20.0  # ms, at 10M on SQLite
TARGET_REQUEST_P99 = 50.0  # ms, at 10M on SQLite
TARGET_RSS = 2**30  # bytes, server memory
TARGET_SYDENT_RATIO = 100.0  # at 1M
TARGET_OPRF_RATIO = 1.25
TARGET_FILTER_BYTES, TARGET_FPR = 4.0, 1e-6
RESULTS_HEADER = """# Contact-discovery benchmark results

Appended by `python bench/contacts/run.py` (never by `--quick`). One block per run; compare
ratios and CPU times across machines, absolute latencies only within a block. What each
table measures: README.md beside this file.

"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- PostgreSQL --------------------------------------------------------------------------------
@contextlib.contextmanager
def postgres_cluster(url: str | None) -> Iterator[str]:
    """The given loopback URL, or a throwaway cluster (scripts/pg-throwaway) for this run."""
    if url is not None:
        seed.check_loopback(url)
        yield url
        return
    cluster = Path(tempfile.mkdtemp(prefix="mayknow-contacts-pg-"))
    cluster.chmod(0o755)
    try:
        started = subprocess.run(
            [str(PG_THROWAWAY), "start", str(cluster)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if started.returncode != 0:
            raise RuntimeError(f"pg-throwaway start failed: {started.stderr[-2000:]}")
        url = started.stdout.strip().splitlines()[-1]
        say(f"throwaway PostgreSQL cluster in {cluster}: {url}")
        yield url
    finally:
        subprocess.run(
            [str(PG_THROWAWAY), "stop", str(cluster)], capture_output=True, timeout=120, check=False
        )
        shutil.rmtree(cluster, ignore_errors=True)


@contextlib.contextmanager
def postgres_database(cluster_url: str, name: str) -> Iterator[str]:
    """A fresh database in the cluster, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(cluster_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(cluster_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- one database, one size ---------------------------------------------------------------------
def bench_store(store: seed.Store, args: argparse.Namespace, out: dict[str, Any]) -> None:
    key = (store.kind, store.accounts)
    if store.kind == "sqlite":
        path = Path(store.url.removeprefix("sqlite:///"))
        out.setdefault("warmed", {})[key] = machine.warm_file_cache(path)
        say(f"[{store.kind} {store.accounts:,}] store file read into the file cache")
    busy = common.busy_cores(1.0)
    say(f"[{store.kind} {store.accounts:,}] machine busy before: {busy:.2f} cores")
    say(f"[{store.kind} {store.accounts:,}] matching step, in-process ...")
    out["matching"][key] = matching.measure(
        store, args.iterations, warmup=2 if args.quick else matching.WARMUP, say=say
    )
    out["busy"][key] = busy
    say(f"[{store.kind} {store.accounts:,}] whole request over HTTP ...")
    out["http"][key] = http_sync.measure(
        store,
        args.iterations,
        concurrencies=args.concurrency,
        evaluations=args.evaluations,
        warmup=2 if args.quick else http_sync.WARMUP,
        say=say,
    )
    out["stores"][key] = store
    out["desc"][key] = store.describe()  # a PostgreSQL database is dropped after its size
    if args.whatif_books:
        say(f"[{store.kind} {store.accounts:,}] what-if: candidate changes, in-process ...")
        shaped = 2000 if args.quick else 20_000
        out["whatif"][key] = whatif.measure(store, args.whatif_books, say=say, shaped=shaped)


def run_sqlite(args: argparse.Namespace, out: dict[str, Any]) -> None:
    for size in args.sizes:
        tags = args.private and size <= args.tags_up_to
        store = seed.sqlite_store(
            size, args.cache_dir, tags=tags, uploaders=args.uploaders, say=say
        )
        bench_store(store, args, out)


def run_postgres(args: argparse.Namespace, out: dict[str, Any]) -> None:
    work = Path(tempfile.mkdtemp(prefix="mayknow-contacts-pgkeys-"))
    try:
        with postgres_cluster(args.pg_url) as cluster:
            for size in args.sizes:
                if args.pg_url is not None:
                    url = cluster
                    store = seed.postgres_store(url, size, work, uploaders=args.uploaders, say=say)
                    bench_store(store, args, out)
                    continue
                with postgres_database(cluster, f"bench_{size}") as url:
                    store = seed.postgres_store(url, size, work, uploaders=args.uploaders, say=say)
                    bench_store(store, args, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the report ---------------------------------------------------------------------------------
def _mark(ok: bool) -> str:
    return "**MET**" if ok else "**MISSED**"


def targets(out: dict[str, Any]) -> list[str]:
    lines = []
    m10 = out["matching"].get(("sqlite", 10_000_000))
    h10 = out["http"].get(("sqlite", 10_000_000))
    if m10:
        p50, p99 = m10["match"]["p50"], m10["match"]["p99"]
        lines.append(
            f"- matching at 10M on SQLite: p50 {p50:.2f} ms (< {TARGET_MATCH_P50:g}: "
            f"{_mark(p50 < TARGET_MATCH_P50)}), p99 {p99:.2f} ms (< "
            f"{TARGET_MATCH_P99:g}: {_mark(p99 < TARGET_MATCH_P99)})"
        )
    else:
        lines.append("- matching at 10M on SQLite: not measured in this run")
    if h10 and 1 in h10["sync"]:
        p99 = h10["sync"][1]["summary"]["p99"]
        lines.append(
            f"- whole request at 10M on SQLite (one at a time): p99 {p99:.2f} ms (< "
            f"{TARGET_REQUEST_P99:g}: {_mark(p99 < TARGET_REQUEST_P99)})"
        )
    else:
        lines.append("- whole request at 10M on SQLite: not measured in this run")
    for (kind, size), h in sorted(out["http"].items()):
        rss = max(run["workers_rss_max"] for run in h["sync"].values())
        lines.append(
            f"- server memory, {kind} {common.human(size)}: both workers together at "
            f"most {rss / 2**20:.0f} MiB (< 1 GiB: {_mark(rss < TARGET_RSS)})"
        )
    for r in out["sydent"]:
        h = out["http"].get(("sqlite", r["accounts"]))
        if h and 1 in h["sync"]:
            ratio = r["summary"]["p50"] / h["sync"][1]["summary"]["p50"]
            goal = (
                f" (≥ {TARGET_SYDENT_RATIO:g}× at 1M: {_mark(ratio >= TARGET_SYDENT_RATIO)})"
                if r["accounts"] == 1_000_000
                else ""
            )
            lines.append(
                f"- sydent / mayknow at {common.human(r['accounts'])}: {common.ratio(ratio)} "
                f"(sydent's median ms per request over mayknow's){goal}"
            )
    if out["private"]:
        us = out["private"]["oprf"]["us"]
        bare = us["c"] if us["c"] == us["c"] else us["ctypes"]
        ratio = us["blind_evaluate_many"] / bare
        lines.append(
            f"- private mode, blind_evaluate_many vs bare scalar multiplication: "
            f"{ratio:.3f}× (≤ {TARGET_OPRF_RATIO}: {_mark(ratio <= TARGET_OPRF_RATIO)})"
        )
        for f in out["filters"]:
            enough = f["queries"] * TARGET_FPR >= 30
            fpr_ok = f["fpr_upper95"] < TARGET_FPR
            verdict = (
                _mark(f["bytes_per_account"] < TARGET_FILTER_BYTES and fpr_ok)
                if enough
                else "n/a: too few queries to resolve 1e-6"
            )
            lines.append(
                f"- filter at {common.human(f['accounts'])}: {f['bytes_per_account']:.3f} "
                f"bytes/account, FPR {f['fpr']:.2e} (95% upper {f['fpr_upper95']:.2e}) "
                f"over {f['queries']:,} lookups: {verdict}"
            )
    return lines


def markdown(out: dict[str, Any]) -> str:
    parts = []
    if out["matching"]:
        rows = [(kind, size, r) for (kind, size), r in sorted(out["matching"].items())]
        parts.append("### Matching step (in-process)\n\n" + matching.report(rows))
    if out["http"]:
        rows = [(kind, size, r) for (kind, size), r in sorted(out["http"].items())]
        parts.append("### Whole request\n\n" + http_sync.report(rows))
    if out["sydent"]:
        mayknow = {
            size: h["sync"][1]
            for (kind, size), h in out["http"].items()
            if kind == "sqlite" and 1 in h["sync"]
        }
        plan = "; ".join(out["sydent"][-1]["plan"])
        parts.append(
            "### sydent side by side\n\n"
            + sydent.report(out["sydent"], mayknow)
            + f"\n\nsydent {out['sydent'][-1]['versions']}; SQLite's plan for its "
            f"lookup query: {plan}"
        )
    if out["private"]:
        evaluate = next((h["evaluate"] for h in out["http"].values() if h.get("evaluate")), None)
        parts.append("### Private mode\n\n" + private.report_cpu(out["private"], evaluate))
        parts.append(private.report_filter(out["filters"]))
        if "psi" in out["private"]:
            parts.append(private.report_psi(out["private"], evaluate))
    for (kind, size), pairs in sorted(out["whatif"].items()):
        parts.append(whatif.report(kind, size, pairs))
    parts.append("### Targets\n\n" + "\n".join(targets(out)))
    return "\n\n".join(parts)


def header(args: argparse.Namespace, out: dict[str, Any], seconds: float) -> str:
    m = common.machine()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    stores = []
    for (kind, size), store in sorted(out["stores"].items()):
        how = "cached" if store.cached else f"seeded in {store.seed_seconds:.0f} s"
        if store.tags:
            how += f", tags {'cached' if store.cached and not store.tag_seconds else 'computed'}"
        if (kind, size) in out.get("warmed", {}):
            how += f", file read into the file cache first ({out['warmed'][(kind, size)]:.0f} s)"
        stores.append(
            f"{kind} {common.human(size)} ({out['desc'][(kind, size)]}, {how}, "
            f"busy {out['busy'][(kind, size)]:.2f} cores before)"
        )
    return "\n".join(
        [
            f"## {now}: sizes {', '.join(common.human(s) for s in args.sizes)}; "
            f"{', '.join(args.db)}",
            "",
            f"- machine: {m['nproc']} CPUs (nproc), {m['cpu']}, {m['memory']}, Linux {m['kernel']}",
            f"- Python {m['python']}, SQLite {m['sqlite']}; {m['libs']}",
            f"- mayknow commit {m['commit']}",
            f"- stores: {'; '.join(stores) or 'none'}",
            f"- {args.iterations} iterations per measurement; whole run {seconds / 60:.0f} min; "
            f"`{' '.join(['python bench/contacts/run.py', *sys.argv[1:]])}`",
        ]
    )


# -- main ---------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100000,1000000", help="accounts, comma-separated")
    p.add_argument("--db", default="sqlite", help="sqlite, postgresql or both, comma-separated")
    p.add_argument(
        "--pg-url",
        help="an EMPTY loopback PostgreSQL database instead of a throwaway cluster (one size only)",
    )
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--concurrency", default="1,2", help="HTTP client connections, e.g. 1,2")
    p.add_argument(
        "--sydent-sizes",
        default="100000,1000000",
        help="sydent bindings, comma-separated (SQLite sizes of this run)",
    )
    p.add_argument("--sydent-iterations", type=int, default=15)
    p.add_argument("--no-sydent", action="store_true")
    p.add_argument("--no-private", dest="private", action="store_false")
    p.add_argument("--no-psi", dest="psi", action="store_false")
    p.add_argument("--psi-size", type=int, default=1_000_000)
    p.add_argument("--psi-structures", default="gcs", help="gcs, bloom, raw (comma-separated)")
    p.add_argument(
        "--tags-up-to",
        type=int,
        default=1_000_000,
        help="compute real discovery tags for SQLite stores up to this size; "
        "larger filters are measured on random tags",
    )
    p.add_argument("--queries", type=int, default=100_000_000, help="false-positive lookups")
    p.add_argument("--uploaders", type=int, default=seed.DEFAULT_UPLOADERS)
    p.add_argument(
        "--whatif-books",
        type=int,
        default=0,
        help="books for whatif.py's candidate changes (0, the default: skip; the changes it "
        "priced are in src/ since 2026-11-28)",
    )
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    p.add_argument("--results", type=Path, default=HERE / "results.md")
    p.add_argument("--quick", action="store_true", help="CI smoke test; writes nothing")
    args = p.parse_args(argv)
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s]
        args.sydent_sizes = [int(s) for s in args.sydent_sizes.split(",") if s]
        args.concurrency = tuple(int(c) for c in args.concurrency.split(",") if c)
    except ValueError:
        p.error("--sizes, --sydent-sizes and --concurrency are comma-separated integers")
    args.db = [d.strip() for d in args.db.split(",") if d.strip()]
    args.evaluations = http_sync.EVALUATE_MAX
    args.rounds = 7
    if args.quick:
        args.sizes, args.iterations, args.concurrency = [2000], 20, (1,)
        args.sydent, args.psi, args.queries = False, False, 10**6
        args.evaluations, args.rounds, args.uploaders = 2, 3, 2
        args.whatif_books = min(args.whatif_books, 5)
    else:
        args.sydent = not args.no_sydent
    if set(args.db) - {"sqlite", "postgresql"} or not args.db:
        p.error("--db takes sqlite and/or postgresql")
    if not (
        args.sizes
        and all(16 <= s <= common.MAX_ACCOUNTS for s in args.sizes)
        and 1 <= args.iterations <= 1000
        and 1 <= args.sydent_iterations <= 1000
        and all(1 <= c <= 8 for c in args.concurrency)
        and 10**5 <= args.queries <= 10**10
        and 1 <= args.uploaders <= 1000
    ):
        p.error("an option is out of range")
    if args.iterations > 40 * args.uploaders:
        p.error(
            f"--iterations {args.iterations} needs at least {-(-args.iterations // 40)} "
            "uploaders (40 books of 1,000 each within the quota)"
        )
    if args.pg_url and len(args.sizes) > 1:
        p.error("--pg-url takes one size (the database must start empty)")
    return args


def _on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: servers, clusters, temp dirs


def run_all(args: argparse.Namespace, out: dict[str, Any]) -> None:
    if "sqlite" in args.db:
        run_sqlite(args, out)
    if "postgresql" in args.db:
        run_postgres(args, out)
    if args.sydent:
        for size in args.sydent_sizes:
            say(f"[sydent {size:,}] ...")
            out["sydent"].append(
                sydent.measure(size, args.sydent_iterations, cache_dir=args.cache_dir, say=say)
            )
    if args.private:
        run_private(args, out)


def write_results(args: argparse.Namespace, out: dict[str, Any], body: str, seconds: float) -> None:
    if not args.results.exists():
        args.results.write_text(RESULTS_HEADER)
    with args.results.open("a") as results:
        results.write(f"{header(args, out, seconds)}\n\n{body}\n\n")
    say(f"appended to {args.results}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    started = time.monotonic()
    out: dict[str, Any] = {
        "matching": {},
        "http": {},
        "stores": {},
        "whatif": {},
        "desc": {},
        "busy": {},
        "sydent": [],
        "private": None,
        "filters": [],
    }
    quick_cache = Path(tempfile.mkdtemp(prefix="mayknow-contacts-quick-")) if args.quick else None
    if quick_cache is not None:
        args.cache_dir = quick_cache  # CI: a store of its own, deleted afterwards
    try:
        run_all(args, out)
    except Exception:
        traceback.print_exc()
        say("FAILED")
        return 1
    finally:
        if quick_cache is not None:
            shutil.rmtree(quick_cache, ignore_errors=True)
    seconds = time.monotonic() - started
    body = markdown(out)
    print(f"\n{body}\n")
    say(f"finished in {seconds:.0f} s")
    if args.quick:
        say("(quick mode: results.md left alone)")
    else:
        write_results(args, out, body, seconds)
    return 0


def run_private(args: argparse.Namespace, out: dict[str, Any]) -> None:
    say(f"[private] OPRF evaluation CPU, {args.rounds} rounds ...")
    result: dict[str, Any] = {
        "oprf": private.oprf_cpu(1000, args.rounds),
        "tag_us": private.tag_cpu(),
    }
    sizes = sorted(size for kind, size in out["stores"] if kind == "sqlite") or args.sizes
    for size in sizes:
        store = out["stores"].get(("sqlite", size))
        say(f"[private] filter of {size:,} accounts, {args.queries:,} lookups ...")
        out["filters"].append(private.filter_stats(store, size, args.queries))
    if args.psi:
        f = next((f for f in out["filters"] if f["accounts"] == args.psi_size), None)
        if f is None:  # PSI at a size this run has no store of: the filter of random tags
            f = private.filter_stats(None, args.psi_size, args.queries)
            out["filters"].append(f)
        result["filter"] = f
        result["wire"] = private.mayknow_wire(common.make_book(random.Random(4), args.psi_size))
        say(f"[private] OpenMined PSI, {args.psi_size:,} server items ({args.psi_structures}) ...")
        result["psi"] = private.psi(args.psi_size, args.psi_structures, private.PSI_VENV, say)
    out["private"] = result


if __name__ == "__main__":
    sys.exit(main())
