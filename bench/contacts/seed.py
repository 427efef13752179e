"""Fill a fresh mayknow store with N discoverable accounts, fast, and cache it.

    python bench/contacts/seed.py --accounts 1000000 [--tags] [--cache-dir /tmp/mayknow-bench]
    python bench/contacts/seed.py --accounts 1000000 --db postgresql+psycopg://...  # empty DB

Members are written in bulk, not through the HTTP API: SQLite through the DBAPI's
``executemany`` (journal off while seeding, WAL afterwards, as mayknow opens it), PostgreSQL
through ``COPY``. Each member gets what a sign-up and one consent give them:

- a ``users`` row keyed with the store's own key ring (``keyring.load_or_create``):
  ``phone_pseudonym = keys.phone_pseudonym(e164)``, ``phone_ciphertext = keys.encrypt(e164)``;
- two ``consent_events``: ``account`` (the policy accepted at sign-up) and
  ``discoverable_by_phone`` granted;
- with ``--tags``, a ``discovery_tags`` row (``discovery.tag_of``, the RFC 9497 OPRF output
  of the number; about 80 µs each, computed on every core).

No ``audit_events`` are written for them and no ``discovery_changes``: matching reads neither.
``mayknow audit verify`` still reports the chain intact (it checks the chain of the events
that exist), but the log does not record these members' consents. Fine for a bench store,
wrong for anything else. Then ``--uploaders`` accounts (default 32, ``+86 137 0000 jjjj``)
are created through mayknow's own services, in-process, as bench/http does: request a
code, read it from the development outbox, register, grant ``contacts_upload``.

Numbers are fictional (see common.py). Ids are sequential from 2**40 (the service draws them
at random in [2**40, 2**53)); audit references are sequential hex. A SQLite store is cached
under ``--cache-dir``/sqlite-N/ with a manifest written last, so an interrupted seed is
started again and a finished one is reused. A PostgreSQL store is seeded every time.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.contacts import common

MANIFEST = "manifest.json"
FORMAT = 1  # bump when the seeded content changes: cached stores of another format are rebuilt
CHUNK = 20_000
DEFAULT_UPLOADERS = 32
SEED_ADDRESS = "127.0.0.1"
LIFTED = 10**9  # the per-address hourly limits, lifted for the seeding process only
USER_ID_BASE = 2**40

Progress = Callable[[str], None]


@dataclass
class Store:
    kind: str  # sqlite | postgresql
    accounts: int
    url: str
    data_dir: Path
    tags: bool
    uploaders: list[int] = field(default_factory=list)
    seed_seconds: float = 0.0
    tag_seconds: float = 0.0
    cached: bool = False

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar()}"
        finally:
            engine.dispose()


def settings_for(store: Store, **extra: object) -> Any:
    from mayknow import config

    flags: dict[str, object] = {
        "db": store.url,
        "data_dir": store.data_dir,
        "codes_per_address_per_hour": LIFTED,
        "signups_per_address_per_hour": LIFTED,
        **extra,
    }
    return config.load(flags, environ={})


@contextlib.contextmanager
def container_for(store: Store, **kwargs: Any) -> Iterator[Any]:
    """mayknow's own services, wired to the store (migrated to the newest schema first)."""
    from mayknow import bootstrap

    container = bootstrap.build(settings_for(store), migrate=True, **kwargs)
    try:
        yield container
    finally:
        container.engine.dispose()


# -- rows, computed on every core --------------------------------------------------------------
_KEYS: Any = None


def _init_worker(data_dir: str) -> None:
    global _KEYS
    from mayknow.identity.keyring import load_or_create

    _KEYS = load_or_create(Path(data_dir))


def _member_rows(
    job: tuple[int, int, str, str],
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """users and consent_events rows of members [start, stop)."""
    start, stop, created, policy = job
    keys = _KEYS
    version = keys.current
    users, consents = [], []
    for k in range(start, stop):
        e164 = common.member_e164(k)
        uid = USER_ID_BASE + k
        users.append(
            (
                uid,
                f"m{k}",
                keys.phone_pseudonym(e164),
                version,
                keys.encrypt(e164.encode()),
                f"{k:032x}",
                created,
            )
        )
        consents.append((2 * k + 1, uid, "account", True, policy, "api", created))
        consents.append((2 * k + 2, uid, "discoverable_by_phone", True, policy, "api", created))
    return users, consents


def _tag_rows(job: tuple[int, int]) -> list[tuple[int, bytes]]:
    from mayknow.contacts import discovery

    start, stop = job
    return [
        (USER_ID_BASE + k, discovery.tag_of(_KEYS, common.member_e164(k)))
        for k in range(start, stop)
    ]


def _pipeline(
    func: Callable[[Any], Any], jobs: list[Any], data_dir: Path, processes: int
) -> Iterator[Any]:
    """Results of ``func`` over ``jobs`` in order, at most 2 per process computed ahead."""
    if len(jobs) <= 1:  # a small store: starting worker processes would cost more
        _init_worker(str(data_dir))
        yield from (func(job) for job in jobs)
        return
    # spawn, not fork: the workers inherit no open database connection of the parent
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes, initializer=_init_worker, initargs=(str(data_dir),)) as pool:
        pending: collections.deque[Any] = collections.deque()
        todo = iter(jobs)
        for job in todo:
            pending.append(pool.apply_async(func, (job,)))
            if len(pending) >= 2 * processes:
                break
        while pending:
            result = pending.popleft().get(timeout=3600)
            for job in todo:
                pending.append(pool.apply_async(func, (job,)))
                break
            yield result


def _chunks(n: int, size: int = CHUNK) -> list[tuple[int, int]]:
    return [(s, min(n, s + size)) for s in range(0, n, size)]


def _created_literal(kind: str, when: dt.datetime) -> object:
    """The created_at / at value as mayknow's own column type stores it."""
    if kind == "postgresql":
        return when.isoformat()
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from mayknow.accounts.models import User

    dialect = sqlite_dialect.dialect()
    column_type = User.__table__.c.created_at.type.dialect_impl(dialect)
    process = column_type.bind_processor(dialect)
    return process(when) if process else when


USERS_COLUMNS = (
    "id, nickname, phone_pseudonym, phone_key_version, phone_ciphertext, audit_ref, created_at"
)
CONSENT_COLUMNS = "id, user_id, purpose, granted, policy_version, channel, at"
INSERT_USERS = (
    "INSERT INTO users (id, nickname, phone_pseudonym, phone_key_version, phone_ciphertext, "
    "audit_ref, created_at) VALUES (?,?,?,?,?,?,?)"
)
INSERT_CONSENTS = (
    "INSERT INTO consent_events (id, user_id, purpose, granted, policy_version, channel, at) "
    "VALUES (?,?,?,?,?,?,?)"
)


# -- SQLite --------------------------------------------------------------------------------------
def _sqlite_file(url: str) -> Path:
    from sqlalchemy.engine import make_url

    return Path(make_url(url).database or "")


@contextlib.contextmanager
def _bulk_sqlite(url: str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(_sqlite_file(url), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1048576")  # 1 GiB while seeding only
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("PRAGMA temp_store=MEMORY")
        yield conn
    finally:
        conn.close()
    done = sqlite3.connect(_sqlite_file(url), isolation_level=None)
    try:
        done.execute("PRAGMA journal_mode=WAL")  # what mayknow's engine sets on every connection
    finally:
        done.close()


def _insert_members_sqlite(store: Store, say: Progress) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    from mayknow.policy.texts import current_version

    jobs = [
        (a, b, _created_literal("sqlite", now), current_version())
        for a, b in _chunks(store.accounts)
    ]
    started, done = time.monotonic(), 0
    with _bulk_sqlite(store.url) as conn:
        conn.execute("BEGIN")
        for users, consents in _pipeline(_member_rows, jobs, store.data_dir, os.cpu_count() or 1):
            conn.executemany(INSERT_USERS, users)
            conn.executemany(INSERT_CONSENTS, consents)
            done += len(users)
            if done % 500_000 < CHUNK or done == store.accounts:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                say(f"  members {done:,}/{store.accounts:,} ({time.monotonic() - started:.0f} s)")
        conn.execute("COMMIT")


def _insert_tags_sqlite(store: Store, say: Progress) -> None:
    started, done = time.monotonic(), 0
    with _bulk_sqlite(store.url) as conn:
        conn.execute("BEGIN")
        conn.execute("DELETE FROM discovery_tags")
        for rows in _pipeline(
            _tag_rows, _chunks(store.accounts, 5000), store.data_dir, os.cpu_count() or 1
        ):
            conn.executemany("INSERT INTO discovery_tags (user_id, tag) VALUES (?, ?)", rows)
            done += len(rows)
            if done % 100_000 < 5000 or done == store.accounts:
                say(f"  tags {done:,}/{store.accounts:,} ({time.monotonic() - started:.0f} s)")
        conn.execute("COMMIT")


def sqlite_store(
    accounts: int,
    cache_dir: Path,
    *,
    tags: bool = False,
    uploaders: int = DEFAULT_UPLOADERS,
    say: Progress = print,
) -> Store:
    """The cached SQLite store of ``accounts`` members, seeded now if it is not there yet."""
    _check_size(accounts, uploaders)
    home = cache_dir / f"sqlite-{accounts}"
    data_dir = home / "data"
    url = f"sqlite:///{data_dir / 'mayknow.db'}"
    manifest = _read_manifest(home)
    if manifest is not None and len(manifest["uploaders"]) >= uploaders:
        store = Store(
            "sqlite",
            accounts,
            url,
            data_dir,
            bool(manifest["tags"]),
            list(manifest["uploaders"]),
            float(manifest["seed_seconds"]),
            float(manifest.get("tag_seconds", 0.0)),
            cached=True,
        )
        say(
            f"using the cached store {home} ({accounts:,} members, seeded in "
            f"{store.seed_seconds:.0f} s{', with tags' if store.tags else ''})"
        )
    else:
        if home.exists():
            say(f"{home}: no finished manifest, seeding again")
            shutil.rmtree(home)
        data_dir.mkdir(parents=True, mode=0o700)
        store = Store("sqlite", accounts, url, data_dir, False)
        _seed(store, say, _insert_members_sqlite, uploaders)
        _write_manifest(home, store)
    if tags and not store.tags:
        started = time.monotonic()
        say(f"computing {accounts:,} discovery tags on {os.cpu_count()} cores ...")
        _insert_tags_sqlite(store, say)
        store.tags, store.tag_seconds = True, time.monotonic() - started
        _write_manifest(home, store)
    return store


# -- PostgreSQL ----------------------------------------------------------------------------------
def _conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def check_loopback(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    host = parsed.host or str(parsed.query.get("host", ""))
    if host and host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("/"):
        raise SystemExit(f"refusing: {host} is not a loopback address or a local socket")


def _insert_members_postgres(store: Store, say: Progress) -> None:
    import psycopg

    from mayknow.policy.texts import current_version

    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    jobs = [(a, b, now.isoformat(), current_version()) for a, b in _chunks(store.accounts)]
    started, done = time.monotonic(), 0
    with psycopg.connect(_conninfo(store.url)) as conn, conn.cursor() as cur:
        for users, consents in _pipeline(_member_rows, jobs, store.data_dir, os.cpu_count() or 1):
            with cur.copy(f"COPY users ({USERS_COLUMNS}) FROM STDIN") as copy:
                for row in users:
                    copy.write_row(row)
            with cur.copy(f"COPY consent_events ({CONSENT_COLUMNS}) FROM STDIN") as copy:
                for row in consents:
                    copy.write_row(row)
            done += len(users)
            if done % 500_000 < CHUNK or done == store.accounts:
                conn.commit()
                say(f"  members {done:,}/{store.accounts:,} ({time.monotonic() - started:.0f} s)")
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('consent_events', 'id'), "
            "(SELECT max(id) FROM consent_events))"
        )
        conn.commit()


def _insert_tags_postgres(store: Store, say: Progress) -> None:
    import psycopg

    started, done = time.monotonic(), 0
    with psycopg.connect(_conninfo(store.url)) as conn, conn.cursor() as cur:
        for rows in _pipeline(
            _tag_rows, _chunks(store.accounts, 5000), store.data_dir, os.cpu_count() or 1
        ):
            with cur.copy("COPY discovery_tags (user_id, tag) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            done += len(rows)
            if done % 100_000 < 5000 or done == store.accounts:
                say(f"  tags {done:,}/{store.accounts:,} ({time.monotonic() - started:.0f} s)")
        conn.commit()


def _analyze_postgres(store: Store) -> None:
    """What autovacuum does to a table this size in production, done now."""
    import psycopg

    with psycopg.connect(_conninfo(store.url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def postgres_store(
    url: str,
    accounts: int,
    work_dir: Path,
    *,
    tags: bool = False,
    uploaders: int = DEFAULT_UPLOADERS,
    say: Progress = print,
) -> Store:
    """Seed an EMPTY loopback PostgreSQL database (its key ring lives in ``work_dir``)."""
    _check_size(accounts, uploaders)
    check_loopback(url)
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        existing = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if existing:
        raise SystemExit(f"refusing: the PostgreSQL database is not empty ({len(existing)} tables)")
    data_dir = work_dir / f"pg-{accounts}"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, mode=0o700)
    store = Store("postgresql", accounts, url, data_dir, False)
    _seed(store, say, _insert_members_postgres, uploaders)
    if tags:
        started = time.monotonic()
        say(f"computing {accounts:,} discovery tags on {os.cpu_count()} cores ...")
        _insert_tags_postgres(store, say)
        store.tags, store.tag_seconds = True, time.monotonic() - started
    _analyze_postgres(store)
    return store


# -- both ----------------------------------------------------------------------------------------
def _check_size(accounts: int, uploaders: int) -> None:
    if not 1 <= accounts <= common.MAX_ACCOUNTS:
        raise SystemExit(f"--accounts must be in 1..{common.MAX_ACCOUNTS:,}")
    if not 1 <= uploaders <= 1000:
        raise SystemExit("--uploaders must be in 1..1000")


def _seed(
    store: Store,
    say: Progress,
    insert_members: Callable[[Store, Progress], None],
    uploaders: int,
) -> None:
    from mayknow.db.engine import make_engine
    from mayknow.db.migrate import upgrade
    from mayknow.identity.keyring import load_or_create

    started = time.monotonic()
    load_or_create(store.data_dir)
    engine = make_engine(store.url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    say(f"seeding {store.accounts:,} members into {store.describe()} on {os.cpu_count()} cores ...")
    insert_members(store, say)
    store.uploaders = create_uploaders(store, uploaders)
    store.seed_seconds = time.monotonic() - started
    say(f"seeded in {store.seed_seconds:.0f} s")


def create_uploaders(store: Store, count: int) -> list[int]:
    """``count`` members who upload books, made through mayknow's services (as a sign-up)."""
    from mayknow.accounts.sms import OutboxSender
    from mayknow.consent.domain import Purpose

    outbox = OutboxSender()
    ids = []
    with container_for(store, sms=outbox) as container:
        accounts, consent = container.accounts, container.consent
        for j in range(count):
            phone = common.uploader_e164(j)
            accounts.request_code(phone, SEED_ADDRESS)
            code = outbox.last_code(accounts.parse_phone(phone))
            signed = accounts.register(
                phone, code, f"uploader-{j}", consent.policy_version, SEED_ADDRESS, channel="api"
            )
            with container.uow.read() as session:
                ref = accounts.get(session, signed.user_id).audit_ref
            consent.change(signed.user_id, ref, Purpose.CONTACTS_UPLOAD, True, "api")
            ids.append(signed.user_id)
    return ids


def _read_manifest(home: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((home / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("format") != FORMAT or manifest.get("numbering") != [common.MUL, common.OFF]:
        return None
    return dict(manifest)


def _write_manifest(home: Path, store: Store) -> None:
    body = {
        "format": FORMAT,
        "numbering": [common.MUL, common.OFF],
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **{k: v for k, v in asdict(store).items() if k not in {"data_dir", "url", "cached"}},
    }
    temporary = home / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(body, indent=1))
    temporary.replace(home / MANIFEST)


# -- per run -------------------------------------------------------------------------------------
def fresh_sessions(store: Store, user_ids: list[int]) -> list[tuple[int, str]]:
    """A new session for each uploader (through the sessions module), their edges, quotas and
    the rate counters reset, so that every run starts from the same state."""
    from sqlalchemy import delete

    from mayknow.accounts import sessions
    from mayknow.accounts.models import RateCounter
    from mayknow.contacts.models import ContactEdge, DiscoveryQuota

    tokens = []
    with container_for(store) as container, container.uow.write() as session:
        session.execute(delete(ContactEdge).where(ContactEdge.uploader_id.in_(user_ids)))
        session.execute(delete(DiscoveryQuota).where(DiscoveryQuota.user_id.in_(user_ids)))
        session.execute(delete(RateCounter))
        now = container.clock.now()
        for uid in user_ids:
            issued = sessions.create(session, uid, "api", now, dt.timedelta(hours=6))
            tokens.append((uid, issued.token))
    return tokens


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument(
        "--db", default="sqlite", help="sqlite (cached) or an EMPTY loopback PostgreSQL URL"
    )
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    p.add_argument("--tags", action="store_true", help="also compute the discovery tags")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.db == "sqlite":
        store = sqlite_store(args.accounts, args.cache_dir, tags=args.tags)
    else:
        store = postgres_store(args.db, args.accounts, args.cache_dir, tags=args.tags)
    print(json.dumps({**asdict(store), "data_dir": str(store.data_dir)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
