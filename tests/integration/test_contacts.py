"""Address-book sync: match, keep only matched edges under both consents, discard the rest."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mayknow.bootstrap import Container
from mayknow.contacts.models import ContactEdge
from tests.conftest import Member, People, grant


def _sync(client: TestClient, member: Member, phones: list[object]) -> dict[str, object]:
    response = client.post("/v1/contacts/sync", json={"phones": phones}, headers=member.auth)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _edges(container: Container) -> set[tuple[int, int]]:
    with container.uow.read() as session:
        rows = session.execute(select(ContactEdge.uploader_id, ContactEdge.contact_id)).all()
    return {(a, b) for a, b in rows}


@pytest.fixture
def scene(people: People, client: TestClient) -> tuple[Member, Member, Member]:
    """凌某 uploads; 胡子 may be found by number; 大饼 may not."""
    ling, hu, bing = people.sign_up("凌某"), people.sign_up("胡子"), people.sign_up("大饼")
    grant(client, ling, "contacts_upload")
    grant(client, hu, "discoverable_by_phone")
    return ling, hu, bing


def test_sync_needs_the_uploaders_consent(
    people: People, client: TestClient, container: Container
) -> None:
    ling, hu = people.sign_up(), people.sign_up()
    grant(client, hu, "discoverable_by_phone")
    response = client.post("/v1/contacts/sync", json={"phones": [hu.phone]}, headers=ling.auth)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"
    assert _edges(container) == set()


def test_only_discoverable_members_match(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, bing = scene
    body = _sync(client, ling, ["+8613700000001", bing.phone, hu.phone])
    assert body["matched"] == [{"index": 2, "user_id": hu.user_id, "nickname": "胡子"}]
    assert body["discarded"] == 2
    assert _edges(container) == {(ling.user_id, hu.user_id)}


def test_invalid_entries_come_back_as_indexes_and_are_never_echoed(
    scene: tuple[Member, Member, Member], client: TestClient
) -> None:
    ling, hu, _ = scene
    body = _sync(client, ling, ["10086", "junk", hu.phone, "", "010-12345678"])
    assert body["invalid"] == [0, 1, 3, 4]
    assert "10086" not in str(body)
    assert [m["index"] for m in body["matched"]] == [2]  # type: ignore[union-attr]


def test_duplicates_and_the_callers_own_number_are_ignored(
    scene: tuple[Member, Member, Member], client: TestClient
) -> None:
    ling, hu, _ = scene
    national = hu.phone.removeprefix("+86")
    body = _sync(client, ling, [ling.phone, hu.phone, national, f"+86 {national}"])
    assert body["matched"] == [{"index": 1, "user_id": hu.user_id, "nickname": "胡子"}]
    assert body["discarded"] == 0


def test_non_strings_are_refused_naming_the_index(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    response = client.post(
        "/v1/contacts/sync", json={"phones": [hu.phone, 13900001111]}, headers=ling.auth
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "phones.1"
    assert _edges(container) == set()


def test_more_than_ten_thousand_numbers_is_413_and_changes_nothing(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    too_many = [hu.phone] + [f"+86137{i:08d}" for i in range(10_000)]
    response = client.post("/v1/contacts/sync", json={"phones": too_many}, headers=ling.auth)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_numbers"
    assert _edges(container) == set()
    assert _sync(client, ling, too_many[:10_000])["matched"]


def test_a_full_sync_replaces_the_edge_set(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    _sync(client, ling, [hu.phone])
    body = _sync(client, ling, ["+8613700000002"])
    assert body["removed"] == 1
    assert _edges(container) == set()


def test_delta_adds_and_removes(
    scene: tuple[Member, Member, Member], people: People, client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    wang = people.sign_up("王")
    grant(client, wang, "discoverable_by_phone")
    _sync(client, ling, [hu.phone])
    response = client.post(
        "/v1/contacts/sync/delta",
        json={"add": [wang.phone, "bad"], "remove": [hu.phone]},
        headers=ling.auth,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["matched"] == [{"index": 0, "user_id": wang.user_id, "nickname": "王"}]
    assert body["invalid"] == [1]
    assert body["removed"] == 1
    assert _edges(container) == {(ling.user_id, wang.user_id)}


def test_delta_removes_that_are_not_numbers_are_refused_whole(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    response = client.post(
        "/v1/contacts/sync/delta",
        json={"add": [hu.phone], "remove": ["+8613700000003", "x"]},
        headers=ling.auth,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "remove[1]"
    assert _edges(container) == set()


def test_the_edge_lives_only_while_both_consents_hold(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    _sync(client, ling, [hu.phone])
    grant(client, hu, "discoverable_by_phone", granted=False)
    assert _edges(container) == set()
    grant(client, hu, "discoverable_by_phone")
    assert _edges(container) == set()  # not resurrected: it comes back with the next sync
    _sync(client, ling, [hu.phone])
    assert _edges(container) == {(ling.user_id, hu.user_id)}
    grant(client, ling, "contacts_upload", granted=False)
    assert _edges(container) == set()


def test_a_late_grant_of_discoverability_needs_a_new_sync(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, _, bing = scene
    assert _sync(client, ling, [bing.phone])["matched"] == []
    grant(client, bing, "discoverable_by_phone")
    assert _edges(container) == set()
    assert len(_sync(client, ling, [bing.phone])["matched"]) == 1  # type: ignore[arg-type]


def test_erasing_all_or_one_edge(
    scene: tuple[Member, Member, Member], people: People, client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    wang = people.sign_up()
    grant(client, wang, "discoverable_by_phone")
    _sync(client, ling, [hu.phone, wang.phone])
    assert client.delete(f"/v1/contacts/{hu.user_id}", headers=ling.auth).status_code == 204
    assert _edges(container) == {(ling.user_id, wang.user_id)}
    again = client.delete(f"/v1/contacts/{hu.user_id}", headers=ling.auth)
    assert again.status_code == 404
    assert client.delete("/v1/contacts", headers=ling.auth).status_code == 204
    assert _edges(container) == set()


def test_the_contact_sees_the_edge_in_the_export_only_where_the_uploader_agreed(
    scene: tuple[Member, Member, Member], client: TestClient
) -> None:
    ling, hu, _ = scene
    _sync(client, ling, [hu.phone])
    hidden = client.get("/v1/me/export", headers=hu.auth).json()
    assert hidden["in_address_books_of"] == []
    assert hidden["in_address_books_of_others_hidden"] == 1
    grant(client, ling, "suggest_me_to_my_contacts")
    shown = client.get("/v1/me/export", headers=hu.auth).json()
    assert [e["user_id"] for e in shown["in_address_books_of"]] == [ling.user_id]
    mine = client.get("/v1/me/export", headers=ling.auth).json()
    assert [e["user_id"] for e in mine["address_book_matches"]] == [hu.user_id]


def test_many_syncs_store_only_edges(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    for round_ in range(3):
        _sync(client, ling, [hu.phone] + [f"+86137{round_:02d}{i:06d}" for i in range(500)])
    with container.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(ContactEdge)) == 1


def test_the_contact_can_erase_one_link_that_points_at_them(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, _ = scene
    _sync(client, ling, [hu.phone])
    erased = client.delete(f"/v1/me/in-address-books/{ling.user_id}", headers=hu.auth)
    assert erased.status_code == 204
    assert _edges(container) == set()
    again = client.delete(f"/v1/me/in-address-books/{ling.user_id}", headers=hu.auth)
    assert again.status_code == 204  # idempotent


def test_erasing_a_link_does_not_reveal_whether_there_was_one(
    scene: tuple[Member, Member, Member], client: TestClient, container: Container
) -> None:
    ling, hu, bing = scene
    _sync(client, ling, [hu.phone])
    held = client.delete(f"/v1/me/in-address-books/{ling.user_id}", headers=hu.auth)
    not_held = client.delete(f"/v1/me/in-address-books/{bing.user_id}", headers=hu.auth)
    assert (held.status_code, held.content) == (not_held.status_code, not_held.content)
