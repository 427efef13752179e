"""Crash consistency: SIGKILL the server in the middle of a 10,000-number sync, a consent
withdrawal and an account deletion; after a restart each is applied whole or not at all,
the audit chain verifies, and no number of a non-member is on disk.

Kills come at fixed delays after the request leaves, and once when the store shows a
writing transaction open (SQLite: the WAL write lock, looked up in /proc/locks; PostgreSQL: a
backend holding a transaction id, held up by a lock this test takes: on the audit head,
where a withdrawal or deletion appends its audit event, and on one of the new edges, which a
sync inserts after it has taken its permits and removed the old edges). Just before each
kill the test notes whether the server was inside its transaction, and at least one kill of
each kind must land there."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from mayknow.bootstrap import Container
from mayknow.contacts.service import QuotaProof
from tests.conftest import Member
from tests.reliability.population import enrol, grant
from tests.reliability.residue import traces
from tests.reliability.server import Server, seeding_container
from tests.store_files import pg_writer_active, sqlite_writer_active, store_bytes

pytestmark = pytest.mark.slow

MEMBERS = 40  # findable members; half in book A, half in book B
STRANGERS = [f"+861377{i:07d}" for i in range(10_000 - MEMBERS // 2)]
DELAYS = {"sync": (0.005, 0.02, 0.05, 0.2), "withdrawal": (0.02,), "deletion": (0.02,)}
SECRET = base64.urlsafe_b64encode(bytes(range(32))).decode()
FOOTPRINT = {  # where an account leaves rows, by the columns that name it
    "users": ("id",),
    "sessions": ("user_id",),
    "follows": ("follower_id", "followee_id"),
    "contact_edges": ("uploader_id", "contact_id"),
    "consent_events": ("user_id",),
    "rights_requests": ("user_id",),
    "discovery_quotas": ("user_id",),
}


@dataclass
class Attempt:
    kind: str
    trigger: str
    delay: float  # after the request left, or after the transaction was seen open
    inside: bool = False  # the server was inside its writing transaction when killed
    outcome: str = ""

    @property
    def waits_for_transaction(self) -> bool:
        return "transaction" in self.trigger


@dataclass
class Scene:
    server: Server
    engine: Engine
    container: Container
    uploader: Member
    members: list[Member]
    books: dict[str, list[str]] = field(default_factory=dict)
    current: str = "A"
    attempts: list[Attempt] = field(default_factory=list)
    barrier_pid: int = 0
    sync_seconds: float = 1.0  # how long a 10,000-number sync takes here, measured

    def edges(self) -> set[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT contact_id FROM contact_edges WHERE uploader_id = :u"),
                {"u": self.uploader.user_id},
            )
            return {row[0] for row in rows}

    def ids(self, book: str) -> set[int]:
        wanted = set(self.books[book])
        return {m.user_id for m in self.members if m.phone in wanted}

    def permits(self) -> int:
        with self.engine.connect() as conn:
            sql = text("SELECT permits FROM discovery_quotas WHERE user_id = :u")
            return int(conn.execute(sql, {"u": self.uploader.user_id}).scalar_one())

    def footprint(self, user_id: int) -> int:
        total = 0
        with self.engine.connect() as conn:
            for table, columns in FOOTPRINT.items():
                where = " OR ".join(f"{c} = :u" for c in columns)
                sql = text(f"SELECT count(*) FROM {table} WHERE {where}")  # noqa: S608
                total += int(conn.execute(sql, {"u": user_id}).scalar_one())
        return total

    def uploads_granted(self) -> bool:
        sql = text(
            "SELECT granted FROM consent_events WHERE user_id = :u "
            "AND purpose = 'contacts_upload' ORDER BY id DESC LIMIT 1"
        )
        with self.engine.connect() as conn:
            return bool(conn.execute(sql, {"u": self.uploader.user_id}).scalar())


def _in_transaction(scene: Scene) -> bool:
    if scene.engine.dialect.name == "sqlite":
        return sqlite_writer_active(scene.server.database_url)
    return pg_writer_active(scene.engine, ignore=scene.barrier_pid)


@contextmanager
def _barrier(scene: Scene, attempt: Attempt) -> Iterator[None]:
    """On PostgreSQL, hold up the server's transaction after it has written, so that a kill
    lands inside it: a sync waits where it inserts an edge this test has inserted and not
    committed; a withdrawal or deletion where it appends its audit event to the audit head
    this test holds. SQLite has no row locks."""
    if not attempt.waits_for_transaction or scene.engine.dialect.name != "postgresql":
        yield
        return
    with scene.engine.connect() as conn:
        transaction = conn.begin()
        scene.barrier_pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        if attempt.kind == "sync":
            target = "B" if scene.current == "A" else "A"
            conn.execute(
                text(
                    "INSERT INTO contact_edges (uploader_id, contact_id, source, created_at) "
                    "VALUES (:u, :c, 'sync', now())"
                ),
                {"u": scene.uploader.user_id, "c": min(scene.ids(target))},
            )
        else:
            conn.execute(text("SELECT last_id FROM audit_head WHERE id = 1 FOR UPDATE"))
        try:
            yield
        finally:
            scene.barrier_pid = 0
            transaction.rollback()


def _wait_for_transaction(scene: Scene, done: threading.Event, then: float) -> bool:
    """Poll until the server's writing transaction is open, then wait ``then`` seconds."""
    deadline = time.monotonic() + 60
    while not _in_transaction(scene):
        if done.is_set():
            return False
        assert time.monotonic() < deadline, "no transaction was ever seen open"
    time.sleep(then)
    return _in_transaction(scene)


def _kill_during(scene: Scene, attempt: Attempt, send: Callable[[], Any]) -> None:
    done = threading.Event()

    def request() -> None:
        try:
            send()
        except httpx.TransportError:
            pass  # the server died under it: expected
        finally:
            done.set()

    with _barrier(scene, attempt):
        sender = threading.Thread(target=request)
        sender.start()
        if attempt.waits_for_transaction:
            inside = _wait_for_transaction(scene, done, attempt.delay)
        else:
            time.sleep(attempt.delay)
            inside = _in_transaction(scene)
        attempt.inside = inside and not done.is_set()
        scene.server.kill()
    sender.join(timeout=30)
    scene.server.start()
    assert scene.container.verify_audit().ok  # the chain, after every restart


def _no_stranger_on_disk(scene: Scene) -> None:
    found = traces(store_bytes(scene.engine), STRANGERS, scene.container.keys)
    assert not found, found[:10]


def _sync_attempt(scene: Scene, attempt: Attempt) -> None:
    target = "B" if scene.current == "A" else "A"
    before, permits = scene.ids(scene.current), scene.permits()
    body = {
        "phones": scene.books[target],
        "quota": {"secret": SECRET, "previous": scene.books[scene.current]},
    }

    def send() -> None:
        httpx.post(
            f"{scene.server.base}/v1/contacts/sync",
            json=body,
            headers=scene.uploader.auth,
            timeout=60,
        )

    _kill_during(scene, attempt, send)
    edges, now = scene.edges(), scene.permits()
    new_permits = permits - MEMBERS // 2  # only the members not in the last book are new
    if edges == before and now == permits:
        attempt.outcome = "not applied"
    elif edges == scene.ids(target) and now in (new_permits, new_permits + 1):  # a refill
        attempt.outcome, scene.current = "applied", target
    else:
        pytest.fail(f"half a sync: {len(edges)} edges, {now} permits (was {permits})")


def _withdrawal_attempt(scene: Scene, attempt: Attempt) -> None:
    def send() -> None:
        httpx.put(
            f"{scene.server.base}/v1/me/consents/contacts_upload",
            json={"granted": False},
            headers=scene.uploader.auth,
            timeout=60,
        )

    _kill_during(scene, attempt, send)
    granted, edges = scene.uploads_granted(), scene.edges()
    if granted and edges == scene.ids(scene.current):
        attempt.outcome = "not applied"
        return
    assert not granted, f"half a withdrawal: {len(edges)} edges kept, consent still granted"
    assert not edges, f"half a withdrawal: {len(edges)} edges kept"
    attempt.outcome = "applied"
    with httpx.Client(base_url=scene.server.base, headers=scene.uploader.auth) as http:
        assert http.put("/v1/me/consents/contacts_upload", json={"granted": True}).is_success
        again = {"phones": scene.books[scene.current]}
        again["quota"] = {"secret": SECRET, "previous": scene.books[scene.current]}  # type: ignore[assignment]
        assert http.post("/v1/contacts/sync", json=again).is_success
    assert scene.edges() == scene.ids(scene.current)


def _leaver(scene: Scene) -> Member:
    """A member with something everywhere: follows both ways, edges, consents, a request."""
    leaver = enrol(scene.container, f"+8613988{len(scene.attempts):06d}", "要走的人")
    grant(scene.container, leaver, ["contacts_upload", "discoverable_by_phone"])
    with httpx.Client(base_url=scene.server.base, timeout=30) as http:
        mine, theirs = leaver.auth, scene.members[0].auth
        assert http.post(f"/v1/follows/{scene.members[1].user_id}", headers=mine).is_success
        assert http.post(f"/v1/follows/{leaver.user_id}", headers=theirs).is_success
        book = {"phones": [m.phone for m in scene.members[:10]]}
        assert http.post("/v1/contacts/sync", json=book, headers=mine).is_success
        request = {"kind": "access", "details": "a copy, please"}
        assert http.post("/v1/me/requests", json=request, headers=mine).is_success
    return leaver


def _deletion_attempt(scene: Scene, attempt: Attempt) -> None:
    leaver = _leaver(scene)
    rows = scene.footprint(leaver.user_id)

    def send() -> None:
        httpx.delete(f"{scene.server.base}/v1/me", headers=leaver.auth, timeout=60)

    _kill_during(scene, attempt, send)
    left = scene.footprint(leaver.user_id)
    signed_in = httpx.get(f"{scene.server.base}/v1/me", headers=leaver.auth).status_code
    if left == rows and signed_in == 200:
        attempt.outcome = "not applied"
    else:
        assert (left, signed_in) == (0, 401), f"half a deletion: {left} of {rows} rows left"
        attempt.outcome = "applied"


def _scene(tmp_path: Path, database_url: str, engine: Engine) -> Scene:
    server = Server(tmp_path / "data", database_url, tmp_path / "server.log")
    container = seeding_container(server.data_dir, database_url, engine)
    uploader = enrol(container, "+8613987000001", "上传者")
    grant(container, uploader, ["contacts_upload"])
    members = []
    for i in range(MEMBERS):
        member = enrol(container, f"+8613987{i + 100:06d}", f"成员{i}")
        grant(container, member, ["discoverable_by_phone"])
        members.append(member)
    phones = [m.phone for m in members]
    half = MEMBERS // 2
    books = {"A": STRANGERS + phones[:half], "B": STRANGERS + phones[half:]}
    principal = container.accounts.authenticate(uploader.token)
    assert principal is not None
    started = time.monotonic()
    container.contacts.sync(principal, books["A"], QuotaProof(SECRET, []))
    scene = Scene(server, engine, container, uploader, members, books)
    scene.sync_seconds = time.monotonic() - started
    return scene


def test_a_killed_server_leaves_each_change_whole_or_absent(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    scene = _scene(tmp_path, database_url, engine)
    assert scene.edges() == scene.ids("A")
    run = {"sync": _sync_attempt, "withdrawal": _withdrawal_attempt, "deletion": _deletion_attempt}
    scene.server.start()
    try:
        for kind, delays in DELAYS.items():
            plan = [Attempt(kind, f"{d * 1000:g} ms after sending", d) for d in delays]
            plan.append(Attempt(kind, "in transaction", 0.0))
            if kind == "sync":  # and once near its end, when the edges are being written
                plan.append(Attempt(kind, "late in transaction", 0.8 * scene.sync_seconds))
            for attempt in plan:
                scene.attempts.append(attempt)
                run[kind](scene, attempt)
            if kind == "sync":  # what a killed sync left: the store's files, after restarts
                _no_stranger_on_disk(scene)
        verified = scene.server.mayknow("audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        scene.server.stop()
    _no_stranger_on_disk(scene)
    for attempt in scene.attempts:
        print(f"crash {engine.dialect.name}: {attempt}")
    for kind in DELAYS:
        assert any(a.inside for a in scene.attempts if a.kind == kind), kind
        assert any(
            a.outcome == "not applied" and a.inside for a in scene.attempts if a.kind == kind
        ), kind
