"""Candidate changes to src/, priced in-process on a seeded store. Nothing in src/ changes.

    python bench/contacts/whatif.py --accounts 1000000 [--books 100] [--db URL]

Each row times the code sync runs today next to a variant, on the same fresh 1,000-number
books, in CPU time of the calling thread (median per book), and checks that both give the
same answer. The variants are what the profile (profile.py) points at:

- parse: ``parse_mobile`` calls ``is_valid_number`` and then ``number_type``, and both run
  the same pattern matching (``_number_type_helper``); ``number_type`` alone already answers
  UNKNOWN for an invalid number. Variant: ``number_type`` only. Checked equal on the books
  and on 3,000 other inputs (landlines, foreign numbers, short, long, garbage).
- pseudonyms: ``KeyRing.phone_pseudonyms`` per number re-reads the ring, sorts its versions and
  looks each subkey up. Variant: the subkeys fetched once per request, then ``hmac.digest``.
- IN lookup: the ORM ``Session.execute`` of ``lookup_by_pseudonyms``. Variants: the same
  statement on the session's Core connection (no ORM result processing); on SQLite also the
  raw statement on a connection with ``PRAGMA mmap_size`` (1 GiB) and one with a 64 MiB
  ``cache_size``, which turn page reads from ``pread`` system calls into memory accesses.
- consent: ``granted_among`` via the ORM, and the same SQL on the Core connection.
- edges: ``add_edges`` (``insert().values(rows)``: a multi-row VALUES compiled for every call)
  vs the same insert as an executemany (``session.execute(insert(...), rows)``: one cached
  statement), each in a transaction rolled back afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.contacts import common, seed


def _cpu_ms(fn: Callable[[], object]) -> tuple[float, object]:
    c0 = time.thread_time_ns()
    value = fn()
    return (time.thread_time_ns() - c0) / 1e6, value


class Pair:
    """Median CPU ms per book of the current code and of a variant."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.now: list[float] = []
        self.variant: list[float] = []

    def add(self, now: float, variant: float) -> None:
        self.now.append(now)
        self.variant.append(variant)

    def row(self) -> list[str]:
        a, b = statistics.median(self.now), statistics.median(self.variant)
        return [self.name, f"{a:.2f}", f"{b:.2f}", f"{a - b:.2f}", f"{b / a:.2f}×"]


# -- parse ----------------------------------------------------------------------------------------
def parse_number_type_only(raw: object, region: str) -> str:
    """parse_mobile without the is_valid_number call (number_type answers UNKNOWN if invalid)."""
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberType

    from mayknow.identity.phone import MAX_INPUT_LENGTH, InvalidPhone

    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_INPUT_LENGTH:
        raise InvalidPhone("not a phone number")
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        raise InvalidPhone("not a phone number") from None
    if phonenumbers.number_type(number) not in {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }:
        raise InvalidPhone("not a mobile number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


_CN_MOBILE_SHAPE = None


def parse_fast_path(raw: object, region: str) -> str:
    """A fast path for the shapes most books hold (+86 / 0086 / national, 11 digits, spaces or
    dashes), typed by phonenumbers' own number_type on a PhoneNumber built directly; anything
    else, and national numbers that begin like a carrier code (11, 12, 179), goes the full way."""
    import re

    import phonenumbers
    from phonenumbers import PhoneNumberType

    from mayknow.identity.phone import MAX_INPUT_LENGTH, InvalidPhone, parse_mobile

    global _CN_MOBILE_SHAPE
    if _CN_MOBILE_SHAPE is None:
        _CN_MOBILE_SHAPE = re.compile(r"(?:\+86|0086)?(1(?:[3-68-9]\d|7[0-8])\d{8})")
    if region == "CN" and isinstance(raw, str) and len(raw) <= MAX_INPUT_LENGTH:
        shape = _CN_MOBILE_SHAPE.fullmatch(raw.replace(" ", "").replace("-", ""))
        if shape is not None:
            number = phonenumbers.PhoneNumber(country_code=86, national_number=int(shape[1]))
            if phonenumbers.number_type(number) not in {
                PhoneNumberType.MOBILE,
                PhoneNumberType.FIXED_LINE_OR_MOBILE,
            }:
                raise InvalidPhone("not a mobile number")
            return "+86" + shape[1]
    return parse_mobile(raw, region)


def _outcome(parse: Callable[[object, str], str], raw: object) -> str:
    try:
        return parse(raw, "CN")
    except ValueError:
        return "invalid"


def _odd_inputs(rng: random.Random, shaped: int = 20_000) -> list[object]:
    prefixes = [
        "+86 10 ",
        "+86 21 ",
        "+86 ",
        "+1 415 ",
        "+1 ",
        "+44 7",
        "+44 20 ",
        "+852 ",
        "+886 9",
        "+81 90 ",
        "010 ",
        "0086",
        "+86 1",
        "1",
        "+86 170 ",
        "+86 199 ",
        "",
    ]
    out: list[object] = [
        "",
        " ",
        "abc",
        None,
        13912345678,
        "+",
        "++86139",
        "1" * 70,
        "+86 139 1234 5678" + " " * 60,
        "+-86 139 1234 5678",
        "86 139 1234 5678",
        "+86 (139) 1234 5678",
        "+86 139 1234 5678 ext. 12",
        "tel:+8613912345678",
        "\uff11\uff13\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
    ]
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 13)))
        out.append(rng.choice(prefixes) + digits)
    for _ in range(shaped):  # 11-digit numbers beginning with 1, in the shapes phones use
        national = "1" + "".join(rng.choice("0123456789") for _ in range(10))
        shape = rng.randrange(5)
        if shape == 0:
            out.append(national)
        elif shape == 1:
            out.append(f"+86 {national[:3]} {national[3:7]} {national[7:]}")
        elif shape == 2:
            out.append(f"0086-{national[:3]}-{national[3:7]}-{national[7:]}")
        elif shape == 3:
            out.append(f" {national[:3]} {national[3:]} ")
        else:
            out.append(f"+86{national}")
    return out


def what_parse(books: list[common.Book], rng: random.Random, shaped: int) -> list[Pair]:
    from mayknow.identity.phone import parse_mobile

    odd = _odd_inputs(rng, shaped)
    for raw in odd + [r for b in books[:5] for r in b.raw]:
        if _outcome(parse_mobile, raw) != _outcome(parse_number_type_only, raw):
            raise AssertionError(f"parse variants disagree on {raw!r}")
    for raw in odd + [r for b in books[:5] for r in b.raw]:
        if _outcome(parse_mobile, raw) != _outcome(parse_fast_path, raw):
            raise AssertionError(f"the fast path disagrees with parse_mobile on {raw!r}")
    pair = Pair("parse 1,000 numbers: parse_mobile → number_type only")
    fast = Pair("parse 1,000 numbers: parse_mobile → +86 fast path, else parse_mobile")
    for book in books:
        now, a = _cpu_ms(lambda b=book: [parse_mobile(r, "CN") for r in b.raw])
        var, b = _cpu_ms(lambda b=book: [parse_number_type_only(r, "CN") for r in b.raw])
        var2, c = _cpu_ms(lambda b=book: [parse_fast_path(r, "CN") for r in b.raw])
        if not a == b == c:
            raise AssertionError("parse variants disagree")
        pair.add(now, var)
        fast.add(now, var2)
    return [pair, fast]


# -- pseudonyms -----------------------------------------------------------------------------------
def what_pseudonyms(container: Any, books: list[common.Book]) -> Pair:
    keys = container.keys
    pair = Pair("pseudonyms of 1,000: phone_pseudonyms → subkeys once + hmac.digest")

    def now(book: common.Book) -> dict[bytes, str]:
        out = {}
        for e164 in book.e164:
            for p in keys.phone_pseudonyms(e164).values():
                out[p] = e164
        return out

    def variant(book: common.Book) -> dict[bytes, str]:
        subkeys = [keys.subkey("phone-pseudonym", v) for v in keys.versions]
        out = {}
        for e164 in book.e164:
            data = e164.encode()
            for k in subkeys:
                out[hmac.digest(k, data, "sha256")] = e164
        return out

    for book in books:
        a_ms, a = _cpu_ms(lambda b=book: now(b))
        b_ms, b = _cpu_ms(lambda b=book: variant(b))
        if a != b:
            raise AssertionError("pseudonym variants disagree")
        pair.add(a_ms, b_ms)
    return pair


# -- the queries ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _rolled_back(container: Any) -> Iterator[Any]:
    from sqlalchemy.orm import Session

    with Session(container.engine) as session:
        try:
            yield session
        finally:
            session.rollback()


def _by_pseudonyms(pseudonyms: list[bytes]) -> Any:
    """The IN lookup as src/ built it before it ran on the Core connection (an ORM select)."""
    from sqlalchemy import select

    from mayknow.accounts.models import User

    return select(User.id, User.nickname, User.phone_pseudonym).where(
        User.phone_pseudonym.in_(pseudonyms)
    )


def _pseudonyms(container: Any, book: common.Book) -> list[bytes]:
    keys = container.keys
    return [p for e in book.e164 for p in keys.phone_pseudonyms(e).values()]


def _raw_sqlite(store: seed.Store, pragma: str) -> sqlite3.Connection:
    from sqlalchemy.engine import make_url

    conn = sqlite3.connect(make_url(store.url).database or "", isolation_level=None)
    conn.execute(pragma)
    return conn


Books = Callable[[], common.Book]


class _Captured(Exception):
    """Raised by a listener to stop a statement before it reaches the database."""


def _capture_sql(container: Any, call: Callable[[Any], object]) -> tuple[str, Any]:
    """The SQL and parameters ``call(session)`` would send, without running it (so no page is
    warmed by it); on a throwaway session."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    captured: list[tuple[str, Any]] = []

    def stop(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not the engine's BEGIN hook
            captured.append((statement, params))
            raise _Captured

    event.listen(container.engine, "before_cursor_execute", stop)
    try:
        with Session(container.engine) as session, contextlib.suppress(_Captured):
            call(session)
    finally:
        event.remove(container.engine, "before_cursor_execute", stop)
    return captured[-1]


RAW_PRAGMAS = (
    ("default pragmas (2 MiB cache)", "PRAGMA cache_size=-2000"),
    ("mmap", "PRAGMA mmap_size=8589934592"),  # SQLite caps it (2 GiB by default)
    ("cache_size 64 MiB", "PRAGMA cache_size=-65536"),
    ("cache_size 1 GiB", "PRAGMA cache_size=-1048576"),
)


def _raw_variants(
    store: seed.Store,
) -> tuple[list[Pair], list[Callable[[list[bytes]], set[int]]], list[sqlite3.Connection]]:
    """The IN lookup on raw sqlite3 connections with different pragmas (SQLite only)."""
    pairs: list[Pair] = []
    variants: list[Callable[[list[bytes]], set[int]]] = []
    conns: list[sqlite3.Connection] = []
    if store.kind != "sqlite":
        return pairs, variants, conns
    for label, pragma in RAW_PRAGMAS:
        conn = _raw_sqlite(store, pragma)
        conns.append(conn)
        if label == "mmap":
            effective = conn.execute("PRAGMA mmap_size").fetchone()[0] / 2**30
            label = f"mmap_size {effective:.2f} GiB (asked 8 GiB; SQLite's cap)"
        pairs.append(Pair(f"IN lookup: ORM session → raw sqlite3, {label}"))

        def raw(ps: list[bytes], k: sqlite3.Connection = conn) -> set[int]:
            marks = ",".join("?" * len(ps))
            sql = f"SELECT id FROM users WHERE phone_pseudonym IN ({marks})"  # noqa: S608
            return {r[0] for r in k.execute(sql, ps)}

        variants.append(raw)
    return pairs, variants, conns


def what_lookup(container: Any, store: seed.Store, rounds: int, fresh: Books) -> list[Pair]:
    """Each variant is timed on books of its own, never on numbers another variant just
    looked up (their pages would be warm); all variants must agree on a shared book."""
    raw_pairs, raw_variants, conns = _raw_variants(store)
    pairs = [Pair("IN lookup: ORM session → Core connection"), *raw_pairs]
    try:
        with _rolled_back(container) as session:

            def orm(ps: list[bytes]) -> set[int]:
                return {row[0] for row in session.execute(_by_pseudonyms(ps))}

            def via_core(ps: list[bytes]) -> set[int]:
                conn = session.connection()
                return {row[0] for row in conn.execute(_by_pseudonyms(ps))}

            variants = [via_core, *raw_variants]
            check = fresh()
            ps = _pseudonyms(container, check)
            expected = orm(ps)
            if len(expected) != check.members or any(v(ps) != expected for v in variants):
                raise AssertionError("lookup variants disagree")
            for _ in range(rounds):
                mine = _pseudonyms(container, fresh())
                today, _found = _cpu_ms(lambda p=mine: orm(p))
                for pair, variant in zip(pairs, variants, strict=True):
                    theirs = _pseudonyms(container, fresh())
                    ms, _found = _cpu_ms(lambda p=theirs, v=variant: v(p))
                    pair.add(today, ms)
    finally:
        for conn in conns:
            conn.close()
    return pairs


def what_consent(container: Any, rounds: int, fresh: Books) -> Pair:
    from mayknow.consent.domain import Purpose

    consent = container.consent
    purpose = Purpose.DISCOVERABLE_BY_PHONE
    pair = Pair("consent check: granted_among (ORM) → same SQL on the DBAPI cursor")
    with _rolled_back(container) as session:

        def ids_of(book: common.Book) -> list[int]:
            ps = _pseudonyms(container, book)
            return [row[0] for row in session.execute(_by_pseudonyms(ps))]

        cursor = session.connection().connection.dbapi_connection.cursor()
        for i in range(rounds + 1):
            ids_a, ids_b = ids_of(fresh()), ids_of(fresh())
            statement, params = _capture_sql(
                container, lambda s, i=ids_b: consent.granted_among(s, i, purpose)
            )
            a_ms, a = _cpu_ms(lambda i=ids_a: consent.granted_among(session, i, purpose))
            b_ms, b = _cpu_ms(
                lambda q=statement, p=params: {r[0] for r in cursor.execute(q, p).fetchall()}
            )
            if len(a) != len(ids_a) or len(b) != len(ids_b):
                raise AssertionError("consent variants disagree")
            if i:  # the first round warms the statement caches of both
                pair.add(a_ms, b_ms)
    return pair


def what_edges(container: Any, store: seed.Store, rounds: int, fresh: Books) -> Pair:
    from sqlalchemy import delete

    from mayknow.contacts.models import ContactEdge
    from mayknow.db.ops import insert_for

    contacts = container.contacts
    uploader = store.uploaders[0]
    pair = Pair("add 300 edges: insert().values(rows) → executemany")

    def ids_of(session: Any) -> set[int]:
        ps = _pseudonyms(container, fresh())
        return {row[0] for row in session.execute(_by_pseudonyms(ps))}

    def today(session: Any, ids: set[int]) -> None:
        contacts.add_edges(session, uploader, ids, "sync")

    def variant(session: Any, ids: set[int]) -> None:
        now = container.clock.now()
        rows = [
            {"uploader_id": uploader, "contact_id": c, "source": "sync", "created_at": now}
            for c in sorted(ids)
        ]
        session.execute(insert_for(session, ContactEdge).on_conflict_do_nothing(), rows)

    for i in range(rounds + 1):
        timed = []
        for insert in (today, variant):
            with _rolled_back(container) as session:
                session.execute(delete(ContactEdge).where(ContactEdge.uploader_id == uploader))
                ids = ids_of(session)
                ms, _ = _cpu_ms(lambda s=session, f=insert, i=ids: f(s, i))
                if contacts.edge_ids(session, uploader) != ids:
                    raise AssertionError("an insert lost edges")
                timed.append(ms)
        if i:
            pair.add(*timed)
    return pair


def what_redesign(container: Any, store: seed.Store, rounds: int, fresh: Books) -> Pair | None:
    """The whole matching step redesigned, SQLite only: subkeys once + hmac.digest; an
    in-memory sorted array of the 8-byte prefixes of every pseudonym (8 bytes per member,
    loaded once; a server would have to keep it current) so that only numbers whose prefix
    is there (the members, and ~N/2**64 others) are looked up; the lookup and the consent
    query as raw SQL on the DBAPI connection. Checked to match exactly what _match matches."""
    if store.kind != "sqlite":
        return None
    try:
        import numpy as np
    except ImportError:
        return None
    from sqlalchemy import select

    from mayknow.consent.domain import Purpose

    keys, contacts, consent = container.keys, container.contacts, container.consent
    conn = _raw_sqlite(store, "PRAGMA cache_size=-2000")
    try:
        blob = b"".join(
            r[0] for r in conn.execute("SELECT substr(phone_pseudonym, 1, 8) FROM users")
        )
        prefixes = np.sort(np.frombuffer(blob, dtype=">u8"))
        del blob
        statement, _ = _capture_sql(
            container, lambda s: consent.granted_among(s, [1, 2], Purpose.DISCOVERABLE_BY_PHONE)
        )
        head, tail = statement.split("(?, ?)")

        def redesigned(numbers: list[str]) -> set[str]:
            subkeys = [keys.subkey("phone-pseudonym", v) for v in keys.versions]
            by_pseudonym = {
                hmac.digest(k, e164.encode(), "sha256"): e164 for e164 in numbers for k in subkeys
            }
            wanted = list(by_pseudonym)
            probe = np.frombuffer(b"".join(p[:8] for p in wanted), dtype=">u8")
            at = np.minimum(np.searchsorted(prefixes, probe), len(prefixes) - 1)
            candidates = [wanted[i] for i in np.flatnonzero(prefixes[at] == probe)]
            if not candidates:
                return set()
            marks = ",".join("?" * len(candidates))
            found = {
                uid: by_pseudonym[p]
                for uid, p in conn.execute(
                    f"SELECT id, phone_pseudonym FROM users WHERE phone_pseudonym IN ({marks})",  # noqa: S608
                    candidates,
                )
            }
            ids = list(found)
            query = head + "(" + ", ".join("?" * len(ids)) + ")" + tail
            granted = {
                r[0] for r in conn.execute(query, (*ids, Purpose.DISCOVERABLE_BY_PHONE.value))
            }
            return {found[uid] for uid in granted}

        def today(numbers: list[str]) -> tuple[float, set[str]]:
            """_match alone, in a transaction begun beforehand (as matching.py times it)."""
            with container.uow.write() as session:
                session.execute(select(1))
                ms, found = _cpu_ms(lambda: contacts._match(session, dict.fromkeys(numbers, 0)))
            return ms, set(found)  # type: ignore[call-overload]

        check = fresh()
        expected = today(check.e164)[1]
        if redesigned(check.e164) != expected or len(expected) != check.members:
            raise AssertionError("the redesigned matching step disagrees with _match")
        pair = Pair(
            f"matching step: _match → prefix array in memory ({prefixes.nbytes / 2**20:.0f} MiB) "
            "+ raw SQL for the candidates"
        )
        for _ in range(rounds):
            a_ms, _found = today(fresh().e164)
            theirs = fresh().e164
            b_ms, _found = _cpu_ms(lambda n=theirs: redesigned(n))
            pair.add(a_ms, b_ms)
        return pair
    finally:
        conn.close()


def measure(
    store: seed.Store, books_count: int, say: seed.Progress = print, shaped: int = 20_000
) -> list[Pair]:
    rng = random.Random(21)
    books = [common.make_book(rng, store.accounts) for _ in range(books_count)]

    def fresh() -> common.Book:
        return common.make_book(rng, store.accounts)

    pairs = what_parse(books, rng, shaped)
    with seed.container_for(store) as container:
        say("  pseudonyms ...")
        pairs.append(what_pseudonyms(container, books))
        say("  IN lookup ...")
        pairs += what_lookup(container, store, books_count, fresh)
        say("  consent ...")
        pairs.append(what_consent(container, books_count, fresh))
        say("  edges ...")
        pairs.append(what_edges(container, store, books_count, fresh))
        say("  the matching step redesigned ...")
        redesign = what_redesign(container, store, books_count, fresh)
        if redesign is not None:
            pairs.append(redesign)
    return pairs


def report(kind: str, accounts: int, pairs: list[Pair]) -> str:
    head = ["what (today → variant)", "today CPU ms", "variant CPU ms", "saved ms", "variant/today"]
    return (
        f"What-if, {kind} {common.human(accounts)} (CPU ms per 1,000-number book, median of "
        f"{len(pairs[0].now)} books; same answers checked)\n\n"
        + common.table(head, [p.row() for p in pairs])
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--books", type=int, default=100)
    p.add_argument("--db", default="sqlite")
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    args = p.parse_args(argv)
    if not 5 <= args.books <= 2000:
        p.error("--books must be in 5..2000")
    if args.db == "sqlite":
        store = seed.sqlite_store(args.accounts, args.cache_dir)
    else:
        store = seed.postgres_store(args.db, args.accounts, args.cache_dir)
    print(report(store.kind, store.accounts, measure(store, args.books)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
