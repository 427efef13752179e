"""Concurrency: 50 clients sync, follow and toggle consents at once against a real server;
afterwards the edges, follows and consents equal those of a serial run of the same
operations in a fresh store, every answer matches the serial one, and none is a 5xx.

Each client's operations touch only what is its own (its uploads, its follows, its
consents), and every member stays findable throughout, so the final state does not depend
on how the clients interleave: any serial order is the right answer, and any difference
is a lost or torn update."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mayknow.bootstrap import Container
from mayknow.entrypoints.api.app import create_app
from tests.conftest import Member, empty_store
from tests.reliability.population import enrol, grant
from tests.reliability.server import Server, seeding_container, serving

pytestmark = pytest.mark.slow

CLIENTS = 50
OPERATIONS = 8  # per client
STRANGERS = [f"+861378{i:07d}" for i in range(40)]
TOGGLED = ("contacts_upload", "suggest_me_to_my_contacts", "location_city")


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # {0}.. are client indexes, turned into that store's user ids
    body: dict[str, Any] | None = None
    targets: tuple[int, ...] = ()


def _plan(seed: int) -> list[list[Op]]:
    """Each client's operations: fixed by the seed, so both runs send the same."""
    rng = random.Random(seed)
    phones = [_phone(i) for i in range(CLIENTS)]
    plans = []
    for me in range(CLIENTS):
        others = [i for i in range(CLIENTS) if i != me]
        ops = []
        for _ in range(OPERATIONS):
            kind = rng.choice(["sync", "sync", "delta", "follow", "unfollow", "consent", "drop"])
            if kind == "sync":
                book = [phones[i] for i in rng.sample(others, 8)] + rng.sample(STRANGERS, 4)
                ops.append(Op("POST", "/v1/contacts/sync", {"phones": book}))
            elif kind == "delta":
                add, remove = rng.sample(others, 3), rng.sample(others, 2)
                body = {"add": [phones[i] for i in add], "remove": [phones[i] for i in remove]}
                ops.append(Op("POST", "/v1/contacts/sync/delta", body))
            elif kind in ("follow", "unfollow", "drop"):
                method = "POST" if kind == "follow" else "DELETE"
                base = "/v1/contacts/{0}" if kind == "drop" else "/v1/follows/{0}"
                ops.append(Op(method, base, None, (rng.choice(others),)))
            else:
                body = {"granted": rng.random() < 0.6}
                ops.append(Op("PUT", f"/v1/me/consents/{rng.choice(TOGGLED)}", body))
        plans.append(ops)
    return plans


def _phone(index: int) -> str:
    return f"+86139866{index:05d}"


@dataclass
class Run:
    """One store's members, and what every request of every client answered."""

    members: list[Member]
    answers: list[list[int]] = field(default_factory=list)

    def path(self, op: Op) -> str:
        return op.path.format(*(self.members[t].user_id for t in op.targets))


def _populate(container: Container) -> list[Member]:
    members = []
    for index in range(CLIENTS):
        member = enrol(container, _phone(index), f"并发{index}")
        grant(container, member, ["contacts_upload", "discoverable_by_phone"])
        members.append(member)
    return members


def _state(run: Run, get: Callable[[str, Member], Any]) -> dict[str, set[tuple[int, ...]]]:
    """Edges, follows and consents, with user ids turned back into client indexes."""
    index = {m.user_id: i for i, m in enumerate(run.members)}
    edges, follows, consents = set(), set(), set()
    for i, member in enumerate(run.members):
        export = get("/v1/me/export", member)
        edges |= {(i, index[e["user_id"]]) for e in export["address_book_matches"]}
        follows |= {(i, index[f["user_id"]]) for f in export["following"]}
        for p, state in export["consents"].items():
            consents.add((i, sorted(export["consents"]).index(p), int(state["granted"])))
    return {"edges": edges, "follows": follows, "consents": consents}


def _concurrently(server: Server, run: Run, plans: list[list[Op]]) -> None:
    run.answers = [[] for _ in plans]
    start = threading.Barrier(CLIENTS)

    def client(i: int) -> None:
        with httpx.Client(base_url=server.base, headers=run.members[i].auth, timeout=120) as http:
            start.wait()
            for op in plans[i]:
                response = http.request(op.method, run.path(op), json=op.body)
                run.answers[i].append(response.status_code)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a client never finished"


def _serially(container: Container, run: Run, plans: list[list[Op]]) -> dict[str, Any]:
    with TestClient(create_app(container)) as http:
        for i, ops in enumerate(plans):
            headers = run.members[i].auth
            run.answers.append(
                [
                    http.request(op.method, run.path(op), json=op.body, headers=headers).status_code
                    for op in ops
                ]
            )
        return _state(run, lambda path, m: http.get(path, headers=m.auth).json())


def test_fifty_clients_at_once_end_where_a_serial_run_ends(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    plans = _plan(seed=20190209)
    server = Server(tmp_path / "data", database_url, tmp_path / "server.log")
    container = seeding_container(server.data_dir, database_url, engine)
    together = Run(_populate(container))
    with serving(server):
        _concurrently(server, together, plans)
        with httpx.Client(base_url=server.base, timeout=60) as http:
            concurrent = _state(together, lambda path, m: http.get(path, headers=m.auth).json())
    server_errors = [s for answers in together.answers for s in answers if s >= 500]
    assert not server_errors, f"{len(server_errors)} answers were 5xx"
    assert container.verify_audit().ok

    empty_store(engine)  # a fresh store, the same people, one request at a time
    serial_container = seeding_container(tmp_path / "serial", database_url, engine)
    alone = Run(_populate(serial_container))
    serial = _serially(serial_container, alone, plans)
    assert together.answers == alone.answers
    for what in ("edges", "follows", "consents"):
        assert concurrent[what] == serial[what], what
    requests = sum(len(p) for p in plans)
    print(
        f"concurrency {engine.dialect.name}: {CLIENTS} clients, {requests} requests, "
        f"{len(serial['edges'])} edges, {len(serial['follows'])} follows: equal to serial"
    )


def test_one_member_on_many_devices_at_once_draws_no_5xx_and_loses_no_setting(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    """The first sync creates the quota row and the first change the settings row: both
    happening at once from several devices must neither collide nor undo each other; the
    same purpose granted from three devices at once is recorded (and published) once."""
    server = Server(tmp_path / "data", database_url, tmp_path / "server.log")
    container = seeding_container(server.data_dir, database_url, engine)
    member = enrol(container, _phone(0), "多设备")
    grant(container, member, ["contacts_upload"])
    changes = [
        ("PUT", "/v1/me/settings", {"suggestions_enabled": False}),
        ("PUT", "/v1/me/settings", {"recommend_me_to_others": False}),
        ("PUT", "/v1/me/settings", {"show_city_on_profile": True}),
    ] * 2 + [("POST", "/v1/contacts/sync", {"phones": STRANGERS[:5]})] * 8
    changes += [("PUT", "/v1/me/consents/discoverable_by_phone", {"granted": True})] * 3
    answers: list[int] = []
    start = threading.Barrier(len(changes))

    def device(method: str, path: str, body: dict[str, Any]) -> None:
        with httpx.Client(base_url=server.base, headers=member.auth, timeout=60) as http:
            start.wait()
            answers.append(http.request(method, path, json=body).status_code)

    with serving(server):
        threads = [threading.Thread(target=device, args=change) for change in changes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        settings = httpx.get(f"{server.base}/v1/me/settings", headers=member.auth).json()
        export = httpx.get(f"{server.base}/v1/me/export", headers=member.auth).json()
    assert sorted(answers) == [200] * len(changes)
    assert settings == {
        "suggestions_enabled": False,
        "recommend_me_to_others": False,
        "show_city_on_profile": True,
    }
    grants = [c for c in export["consent_history"] if c["purpose"] == "discoverable_by_phone"]
    assert len(grants) == 1, grants
