"""The demo population (`mayknow serve --dev --demo`): a newcomer with the plaintiff's
number meets every kind of reason, each only once its consents hold."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mayknow import demo
from mayknow.audit.models import AuditEvent
from mayknow.bootstrap import Container
from mayknow.suggestions.models import FofCandidate
from tests.conftest import Member, People, grant


def _kinds(client: TestClient, member: Member) -> dict[int, list[str]]:
    body = client.get("/v1/suggestions", params={"limit": 100}, headers=member.auth).json()
    return {s["user_id"]: [r["kind"] for r in s["reasons"]] for s in body["suggestions"]}


def _all(kinds: dict[int, list[str]]) -> set[str]:
    return {kind for reasons in kinds.values() for kind in reasons}


def test_the_population_is_the_same_every_time_and_fictional() -> None:
    first, second = demo.personas(), demo.personas()
    assert first == second
    assert len({p.phone for p in first}) == len({p.nickname for p in first}) == 40
    assert all(p.phone.startswith("+86139000010") for p in first)
    holders = [p for p in first if demo.PLAINTIFF in p.book]
    assert len(holders) == 20  # the scene: twenty address books hold his number


def test_a_newcomer_meets_every_kind_of_reason_once_its_consents_hold(
    container: Container, client: TestClient, people: People
) -> None:
    population = demo.Demo(container)
    assert population.store_is_empty()
    assert population.populate() == 40
    assert not population.store_is_empty()
    ids = [app.member.user_id for app in population.apps]

    ling = people.sign_up("凌某", phone=demo.PLAINTIFF)
    population.tick()
    assert _kinds(client, ling) == {}  # nothing of his was used: he allowed nothing

    grant(client, ling, "discoverable_by_phone")
    population.tick()  # their apps sync again and find him; two of them follow him
    kinds = _kinds(client, ling)
    assert _all(kinds) == {"follows_you"}  # still nothing from their address books (H4)
    assert set(kinds) == {ids[i] for i in demo.FOLLOW_ON_SIGHT}

    grant(client, ling, "suggest_from_others_contacts")
    kinds = _kinds(client, ling)
    agreed = {ids[i] for i in demo.AGREE_TO_BE_SUGGESTED - demo.OPTED_OUT}
    assert {u for u, k in kinds.items() if "has_you_in_contacts" in k} == agreed

    grant(client, ling, "contacts_upload")
    book = [demo.member_phone(3), demo.member_phone(30), "+86 139 0000 2999"]
    synced = client.post("/v1/contacts/sync", json={"phones": book}, headers=ling.auth).json()
    assert [m["user_id"] for m in synced["matched"]] == [ids[3]]  # 30 hides; 2999 is nobody

    client.post(f"/v1/follows/{ids[2]}", headers=ling.auth)  # follows back a fan
    population.tick()
    kinds = _kinds(client, ling)
    assert _all(kinds) >= {
        "in_your_contacts",
        "has_you_in_contacts",
        "follows_you",
        "mutual_connections",
    }

    grant(client, ling, "suggest_from_others_contacts", granted=False)
    assert "has_you_in_contacts" not in _all(_kinds(client, ling))  # at once


def test_the_demo_runs_the_batch_job_and_the_run_is_audited(container: Container) -> None:
    def runs() -> list[str]:
        with container.uow.read() as session:
            found = select(AuditEvent).where(AuditEvent.action == "fof_candidates_replaced")
            return [r.actor for r in session.scalars(found)]

    demo.Demo(container).populate()
    before = runs()
    rows = demo.friends_of_friends(container)
    with container.uow.read() as session:
        stored = session.scalar(select(func.count()).select_from(FofCandidate))
    assert rows == stored > 0  # the demo's circles do have friends of friends
    assert runs() == [*before, "job:friends_of_friends"]
    assert container.verify_audit().ok
