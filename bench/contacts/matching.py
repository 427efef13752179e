"""The matching step of address-book sync, timed in-process against a seeded store.

    python bench/contacts/matching.py --accounts 1000000 [--iterations 300] [--db URL]

It calls ``ContactService._match(session, numbers)``, the exact code path of
``ContactService.sync`` (and of ``sync_delta``), twice over the same books: first with no
matching directory (HMAC pseudonyms of each E.164 number under every key version,
``WHERE phone_pseudonym IN (...)`` in chunks of 4,000, then
``consent.granted_among(..., discoverable_by_phone)``), then with the directory built as a
server builds it before it serves (the pseudonyms' prefixes looked up in memory, the
candidates read by id, the whole pseudonym compared). ``_match`` is private: there is no
public wrapper, so the benchmark calls it directly (and breaks loudly if it is renamed).

Each iteration takes a fresh random book of 1,000 numbers (30% members), opens a write
transaction as ``sync`` does (``BEGIN IMMEDIATE`` on SQLite, taken before the clock starts,
as ``sync`` takes it with its first query), and times ``_match`` alone. The result is
checked: exactly the book's members must match. A second pass times the three parts of
``_match`` separately with the same public calls ``_match`` makes, and the parsing of the
raw numbers (``parse_book`` + ``parse_mobile``), which ``sync`` does before matching.
A third pass times the whole ``ContactService.sync`` in-process (parse, consent check,
quota, match, edges written, commit), without HTTP.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.contacts import common, seed

WARMUP = 10


def _ms(ns: int) -> float:
    return ns / 1e6


def time_match(container: Any, books: list[common.Book]) -> tuple[list[float], list[float]]:
    """Wall time and this thread's CPU time of each _match call (SQLite works in-thread, so
    on a quiet machine the two agree; on a busy one the CPU time is what _match costs)."""
    from sqlalchemy import select

    contacts, wall, cpu = container.contacts, [], []
    for book in books:
        numbers = {e164: i for i, e164 in enumerate(book.e164)}
        with container.uow.write() as session:
            session.execute(select(1))  # the transaction begins here, as in sync
            c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
            matches = contacts._match(session, numbers)
            t1, c1 = time.perf_counter_ns(), time.thread_time_ns()
        if len(matches) != book.members:
            raise AssertionError(f"_match found {len(matches)} members, expected {book.members}")
        wall.append(_ms(t1 - t0))
        cpu.append(_ms(c1 - c0))
    return wall, cpu


def time_parts(container: Any, books: list[common.Book]) -> dict[str, list[float]]:
    """The steps of _match, timed one by one with the calls _match makes."""
    from sqlalchemy import select

    from mayknow.consent.domain import Purpose
    from mayknow.contacts.domain import parse_book
    from mayknow.contacts.service import LOOKUP_CHUNK
    from mayknow.identity.phone import parse_mobile

    keys, accounts, consent = container.keys, container.accounts, container.consent
    region = accounts.region
    parts: dict[str, list[float]] = {"parse": [], "pseudonyms": [], "lookup": [], "consent": []}
    for book in books:
        t0 = time.perf_counter_ns()
        parsed = parse_book(book.raw, lambda raw: parse_mobile(raw, region), None)
        t1 = time.perf_counter_ns()
        by_pseudonym = keys.pseudonyms_of(parsed.numbers)
        t2 = time.perf_counter_ns()
        with container.uow.write() as session:
            session.execute(select(1))
            t3 = time.perf_counter_ns()
            found: dict[int, str] = {}
            wanted = list(by_pseudonym)
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                rows = accounts.lookup_by_pseudonyms(session, wanted[start : start + LOOKUP_CHUNK])
                for user_id, _nickname, pseudonym in rows:
                    found[user_id] = by_pseudonym[pseudonym]
            t4 = time.perf_counter_ns()
            allowed = consent.granted_among(session, found, Purpose.DISCOVERABLE_BY_PHONE)
            t5 = time.perf_counter_ns()
        if len(parsed.numbers) != len(book.raw) or len(allowed) != book.members:
            raise AssertionError("the parts of _match disagree with the book")
        parts["parse"].append(_ms(t1 - t0))
        parts["pseudonyms"].append(_ms(t2 - t1))
        parts["lookup"].append(_ms(t4 - t3))
        parts["consent"].append(_ms(t5 - t4))
    return parts


def time_sync(container: Any, store: seed.Store, books: list[common.Book]) -> list[float]:
    """The whole ContactService.sync in-process: what the HTTP route calls."""
    tokens = seed.fresh_sessions(store, store.uploaders)
    per_uploader = 40  # 40 x 1,000 new numbers stay within the 50,000-permit quota
    if len(books) > per_uploader * len(tokens):
        books = books[: per_uploader * len(tokens)]
    principals = [container.accounts.authenticate(token) for _, token in tokens]
    out = []
    for i, book in enumerate(books):
        caller = principals[i % len(principals)]
        t0 = time.perf_counter_ns()
        result = container.contacts.sync(caller, book.raw, None)
        t1 = time.perf_counter_ns()
        if len(result.matched) != book.members:
            raise AssertionError(f"sync matched {len(result.matched)}, expected {book.members}")
        out.append(_ms(t1 - t0))
    seed.fresh_sessions(store, store.uploaders)  # leave no edges behind
    return out


def measure(
    store: seed.Store,
    iterations: int,
    *,
    seed_value: int = 1,
    warmup: int = WARMUP,
    say: seed.Progress = print,
) -> dict[str, Any]:
    rng = random.Random(seed_value)
    books = [common.make_book(rng, store.accounts) for _ in range(iterations + warmup)]
    with seed.container_for(store) as container:
        say(f"  _match through the store alone: {iterations} books ...")
        store_only = time_match(container, books)[0][warmup:]
        say("  building the matching directory, as a server does before it serves ...")
        started = time.perf_counter()
        container.contacts.directory.build(container.uow)
        built = time.perf_counter() - started
        say(f"  _match through the directory: {iterations} books of {common.BOOK_SIZE:,} numbers")
        match, match_cpu = (v[warmup:] for v in time_match(container, books))
        say(f"  the parts of _match, {iterations} more books ...")
        fresh = [common.make_book(rng, store.accounts) for _ in range(iterations + warmup)]
        parts = {k: v[warmup:] for k, v in time_parts(container, fresh).items()}
        say("  ContactService.sync in-process ...")
        more = [common.make_book(rng, store.accounts) for _ in range(iterations + warmup)]
        sync = time_sync(container, store, more)[warmup:]
    return {
        "match": common.summary(match),
        "match_cpu": common.summary(match_cpu),
        "match_store_only": common.summary(store_only),
        "directory_build_s": built,
        "parts": {k: common.summary(v) for k, v in parts.items()},
        "sync": common.summary(sync),
        "key_versions": len(container.keys.versions),
    }


def report(rows: list[tuple[str, int, dict[str, Any]]]) -> str:
    """Markdown: one row per (database, accounts)."""
    head = [
        "database",
        "accounts",
        "n",
        "_match p50",
        "p90",
        "p99",
        "max",
        "CPU p50",
        "CPU p99",
        "store alone p50",
        "p99",
        "directory build",
        "pseudonyms p50",
        "IN lookup p50",
        "consent p50",
        "parse p50",
        "sync() in-process p50",
        "p99",
    ]
    out = []
    for db, accounts, r in rows:
        m, c, p, s = r["match"], r["match_cpu"], r["parts"], r["sync"]
        out.append(
            [
                db,
                common.human(accounts),
                m["n"],
                common.fmt_ms(m["p50"]),
                common.fmt_ms(m["p90"]),
                common.fmt_ms(m["p99"]),
                common.fmt_ms(m["max"]),
                common.fmt_ms(c["p50"]),
                common.fmt_ms(c["p99"]),
                common.fmt_ms(r["match_store_only"]["p50"]),
                common.fmt_ms(r["match_store_only"]["p99"]),
                f"{r['directory_build_s']:.1f} s",
                common.fmt_ms(p["pseudonyms"]["p50"]),
                common.fmt_ms(p["lookup"]["p50"]),
                common.fmt_ms(p["consent"]["p50"]),
                common.fmt_ms(p["parse"]["p50"]),
                common.fmt_ms(s["p50"]),
                common.fmt_ms(s["p99"]),
            ]
        )
    note = (
        "(ms; 1,000-number books, 30% members; in-process. `_match` is the production path:"
        " the matching directory names the candidates, the store confirms them. 'store alone'"
        " is the same books with no directory (MAYKNOW_MATCH_DIRECTORY=false, or while it"
        " rebuilds); the parts after it are that path's steps.)"
    )
    return note + "\n\n" + common.table(head, out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (cached store) or an EMPTY loopback PostgreSQL URL (seeded now)",
    )
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    args = p.parse_args(argv)
    if not 1 <= args.iterations <= 100_000:
        p.error("--iterations must be in 1..100000")
    if args.db == "sqlite":
        store = seed.sqlite_store(args.accounts, args.cache_dir)
    else:
        store = seed.postgres_store(args.db, args.accounts, args.cache_dir)
    result = measure(store, args.iterations)
    print(report([(store.kind, store.accounts, result)]))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
