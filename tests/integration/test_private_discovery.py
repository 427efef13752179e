"""Private discovery: the same matches as a plain sync, and the server never sees a number."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mayknow.bootstrap import Container
from mayknow.client import Client
from mayknow.client.http import ApiError
from mayknow.contacts.cuckoo import CuckooFilter, tag_of
from mayknow.contacts.models import ContactEdge, DiscoveryQuota
from mayknow.identity import oprf
from tests.conftest import Member, People, grant
from tests.integration.test_residue import _forms, _rows
from tests.store_files import store_bytes

STRANGERS = [f"+86137555{i:05d}" for i in range(40)]


@pytest.fixture
def world(people: People, client: TestClient) -> tuple[Member, list[Member], list[Member]]:
    """An uploader, three discoverable members and two who are not."""
    uploader = people.sign_up("凌某")
    grant(client, uploader, "contacts_upload")
    found = [people.sign_up(f"可见{i}") for i in range(3)]
    for member in found:
        grant(client, member, "discoverable_by_phone")
    hidden = [people.sign_up(f"隐身{i}") for i in range(2)]
    return uploader, found, hidden


def _book(found: list[Member], hidden: list[Member]) -> list[str]:
    return [
        STRANGERS[0],
        found[0].phone,
        "10086",
        hidden[0].phone,
        *STRANGERS[1:],
        found[2].phone,
        found[1].phone.removeprefix("+86"),
        hidden[1].phone,
    ]


def test_private_matches_equal_plain_matches(
    world: tuple[Member, list[Member], list[Member]], client: TestClient, container: Container
) -> None:
    uploader, found, hidden = world
    book = _book(found, hidden)
    api = Client(client, uploader.token)
    private = api.private_sync(book)
    with container.uow.read() as session:
        private_edges = set(session.scalars(select(ContactEdge.contact_id)))
    plain = api.sync(book)
    assert private["matched"] == plain["matched"]
    assert private["invalid"] == plain["invalid"] == [2]
    assert private_edges == {m.user_id for m in found}


def test_the_server_keeps_nothing_of_non_members_after_a_private_sync(
    world: tuple[Member, list[Member], list[Member]], client: TestClient, container: Container
) -> None:
    uploader, found, hidden = world
    Client(client, uploader.token).private_sync(_book(found, hidden))
    store, rows = store_bytes(container.engine), _rows(container)
    key = container.keys.oprf_key()
    for number in STRANGERS:
        output = oprf.evaluate(key, number.encode())
        for form in [*_forms(number), output[:32], output[:8]]:
            assert form not in store
            assert form not in rows


def test_the_filter_holds_exactly_the_discoverable(
    world: tuple[Member, list[Member], list[Member]], client: TestClient, container: Container
) -> None:
    uploader, found, hidden = world
    response = client.get("/v1/contacts/private/filter", headers=uploader.auth)
    cuckoo = CuckooFilter.from_bytes(response.content)
    key = container.keys.oprf_key()
    tags = {m.user_id: tag_of(oprf.evaluate(key, m.phone.encode())) for m in found + hidden}
    assert all(tags[m.user_id] in cuckoo for m in found)
    assert not any(tags[m.user_id] in cuckoo for m in hidden)
    assert len(cuckoo) == 3
    version = int(response.headers["X-Filter-Version"])
    grant(client, hidden[0], "discoverable_by_phone")
    changes = client.get(
        "/v1/contacts/private/filter/changes", params={"since": version}, headers=uploader.auth
    ).json()
    assert [base64.b64decode(t) for t in changes["added"]] == [tags[hidden[0].user_id]]
    assert changes["version"] > version


def test_a_withdrawn_member_matches_nobody_even_from_a_stale_filter(
    world: tuple[Member, list[Member], list[Member]], client: TestClient, container: Container
) -> None:
    uploader, found, _ = world
    output = oprf.evaluate(container.keys.oprf_key(), found[0].phone.encode())
    grant(client, found[0], "discoverable_by_phone", granted=False)
    response = client.post(
        "/v1/contacts/private/report",
        json={"outputs": [base64.b64encode(output).decode()]},
        headers=uploader.auth,
    )
    assert response.json() == {"matched": [], "unmatched": 1, "removed": 0}


def test_bad_elements_are_refused_and_cost_nothing(
    world: tuple[Member, list[Member], list[Member]], client: TestClient, container: Container
) -> None:
    uploader, _, _ = world
    _, good = oprf.blind(b"+8613755500001")
    bad_values = [b"\x00" * 32, b"\xff" * 32, good[:31], good + b"\x00"]
    for bad in bad_values:
        elements = [base64.b64encode(good).decode(), base64.b64encode(bad).decode()]
        response = client.post(
            "/v1/contacts/private/evaluate", json={"elements": elements}, headers=uploader.auth
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "elements[1]"
    not_base64 = client.post(
        "/v1/contacts/private/evaluate", json={"elements": ["%%%"]}, headers=uploader.auth
    )
    assert not_base64.status_code == 422
    with container.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(DiscoveryQuota)) == 0


def test_each_evaluation_spends_a_permit(
    world: tuple[Member, list[Member], list[Member]], client: TestClient, container: Container
) -> None:
    uploader, found, _ = world
    from mayknow.contacts.domain import Bucket
    from mayknow.contacts.service import SyncLimits

    container.contacts.limits = SyncLimits(max_numbers=10_000, quota=Bucket(3, 6))
    api = Client(client, uploader.token)
    api.private_sync([m.phone for m in found])
    with pytest.raises(ApiError) as refused:
        api.private_sync([found[0].phone])
    assert refused.value.status == 429


def test_private_endpoints_need_consent_and_a_session(people: People, client: TestClient) -> None:
    member = people.sign_up()
    assert client.get("/v1/contacts/private/filter").status_code == 401
    _, element = oprf.blind(b"+8613755500002")
    response = client.post(
        "/v1/contacts/private/evaluate",
        json={"elements": [base64.b64encode(element).decode()]},
        headers=member.auth,
    )
    assert response.status_code == 403
    report = client.post("/v1/contacts/private/report", json={"outputs": []}, headers=member.auth)
    assert report.status_code == 403


def test_outputs_of_the_wrong_length_are_refused(
    world: tuple[Member, list[Member], list[Member]], client: TestClient
) -> None:
    uploader, _, _ = world
    response = client.post(
        "/v1/contacts/private/report",
        json={"outputs": [base64.b64encode(b"x" * 32).decode()]},
        headers=uploader.auth,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "outputs[0]"


def test_a_change_log_too_old_asks_for_the_whole_filter(
    world: tuple[Member, list[Member], list[Member]], client: TestClient, container: Container
) -> None:
    from datetime import timedelta

    from mayknow.contacts import discovery

    uploader, _, hidden = world
    grant(client, hidden[0], "discoverable_by_phone")
    with container.uow.write() as session:
        discovery.purge_changes(session, container.clock.now() + timedelta(days=1))
    response = client.get(
        "/v1/contacts/private/filter/changes", params={"since": 0}, headers=uploader.auth
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "filter_too_old"
