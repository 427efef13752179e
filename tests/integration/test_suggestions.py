"""People you may know: sources, reasons, exclusions, why, dismiss, block."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from mayknow.bootstrap import Container
from mayknow.suggestions.models import FofCandidate
from tests.conftest import Member, People, grant


def _list(client: TestClient, member: Member, **params: object) -> list[dict[str, object]]:
    response = client.get("/v1/suggestions", params=params, headers=member.auth)
    assert response.status_code == 200, response.text
    suggestions: list[dict[str, object]] = response.json()["suggestions"]
    return suggestions


def _kinds(suggestions: list[dict[str, object]]) -> dict[object, list[object]]:
    return {s["user_id"]: [r["kind"] for r in s["reasons"]] for s in suggestions}  # type: ignore[union-attr]


def _upload(client: TestClient, member: Member, phones: list[str]) -> None:
    grant(client, member, "contacts_upload")
    response = client.post("/v1/contacts/sync", json={"phones": phones}, headers=member.auth)
    assert response.status_code == 200


def _fof(container: Container, viewer: int, candidate: int, score: int, via: list[int]) -> None:
    padded = [*via, None, None, None][:3]
    with container.uow.write() as session:
        session.execute(
            insert(FofCandidate).values(
                viewer_id=viewer,
                candidate_id=candidate,
                score=score,
                mutual_count=len(via),
                via1=padded[0],
                via2=padded[1],
                via3=padded[2],
                computed_at=container.clock.now(),
            )
        )


def test_others_address_books_suggest_nobody_without_both_consents(
    people: People, client: TestClient
) -> None:
    ling = people.sign_up("凌某")
    grant(client, ling, "discoverable_by_phone")
    holders = [people.sign_up(name) for name in ("凌为君", "胡子", "大饼")]
    for holder in holders:
        _upload(client, holder, [ling.phone])
    grant(client, holders[0], "suggest_me_to_my_contacts")
    assert _list(client, ling) == []  # H4: not without the newcomer's own consent
    grant(client, ling, "suggest_from_others_contacts")
    assert _kinds(_list(client, ling)) == {holders[0].user_id: ["has_you_in_contacts"]}
    grant(client, holders[0], "suggest_me_to_my_contacts", granted=False)
    assert _list(client, ling) == []  # the other side's withdrawal counts at once too


def test_your_own_address_book_suggests_the_discoverable(
    people: People, client: TestClient
) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    grant(client, hu, "discoverable_by_phone")
    _upload(client, ling, [hu.phone])
    assert _list(client, ling) == [
        {"user_id": hu.user_id, "nickname": "胡子", "reasons": [{"kind": "in_your_contacts"}]}
    ]
    grant(client, ling, "contacts_upload", granted=False)
    assert _list(client, ling) == []


def test_fans_are_suggested_until_followed_back(people: People, client: TestClient) -> None:
    ling, fan = people.sign_up(), people.sign_up()
    client.post(f"/v1/follows/{ling.user_id}", headers=fan.auth)
    assert _kinds(_list(client, ling)) == {fan.user_id: ["follows_you"]}
    client.post(f"/v1/follows/{fan.user_id}", headers=ling.auth)
    assert _list(client, ling) == []


def test_friends_of_friends_name_up_to_three_connections(
    people: People, client: TestClient, container: Container
) -> None:
    ling, far = people.sign_up("凌某"), people.sign_up("远方")
    via = [people.sign_up(f"朋友{i}") for i in range(3)]
    _fof(container, ling.user_id, far.user_id, 3 * 434_294_482, [m.user_id for m in via])
    [shown] = _list(client, ling)
    [reason] = shown["reasons"]  # type: ignore[misc]
    assert reason["kind"] == "mutual_connections"
    assert reason["count"] == 3
    assert [p["nickname"] for p in reason["via"]] == ["朋友0", "朋友1", "朋友2"]
    client.delete("/v1/me", headers=via[0].auth)
    assert _list(client, ling) == []  # erasure reaches the precomputed table too


def test_reasons_add_up_and_ties_go_to_the_smaller_id(
    people: People, client: TestClient, container: Container
) -> None:
    ling = people.sign_up()
    contact, fan_a, fan_b = people.sign_up(), people.sign_up(), people.sign_up()
    grant(client, contact, "discoverable_by_phone")
    _upload(client, ling, [contact.phone])
    for fan in (fan_a, fan_b, contact):
        client.post(f"/v1/follows/{ling.user_id}", headers=fan.auth)
    order = [s["user_id"] for s in _list(client, ling)]
    assert order == [contact.user_id, *sorted([fan_a.user_id, fan_b.user_id])]
    assert _list(client, ling, limit=1)[0]["reasons"] == [
        {"kind": "in_your_contacts"},
        {"kind": "follows_you"},
    ]


def test_exclusions_apply_at_the_next_request(people: People, client: TestClient) -> None:
    ling = people.sign_up()
    fans = [people.sign_up() for _ in range(4)]
    for fan in fans:
        client.post(f"/v1/follows/{ling.user_id}", headers=fan.auth)
    assert len(_list(client, ling)) == 4
    client.put("/v1/me/settings", json={"recommend_me_to_others": False}, headers=fans[0].auth)
    client.post(f"/v1/blocks/{ling.user_id}", headers=fans[1].auth)
    assert (
        client.post(f"/v1/suggestions/{fans[2].user_id}/dismiss", headers=ling.auth).status_code
        == 204
    )
    assert [s["user_id"] for s in _list(client, ling)] == [fans[3].user_id]
    client.put("/v1/me/settings", json={"suggestions_enabled": False}, headers=ling.auth)
    assert _list(client, ling) == []


def test_why_says_what_the_list_said(people: People, client: TestClient) -> None:
    ling, fan, stranger = people.sign_up(), people.sign_up(), people.sign_up()
    client.post(f"/v1/follows/{ling.user_id}", headers=fan.auth)
    [shown] = _list(client, ling)
    why = client.get(f"/v1/suggestions/{fan.user_id}/why", headers=ling.auth)
    assert why.json() == {"reasons": shown["reasons"]}
    for target in (stranger.user_id, 1234567, "nope"):
        response = client.get(f"/v1/suggestions/{target}/why", headers=ling.auth)
        assert response.status_code == 404
        assert response.json()["error"]["code"] in {"not_a_suggestion", "user_not_found"}
        assert (
            client.post(f"/v1/suggestions/{target}/dismiss", headers=ling.auth).status_code == 404
        )


def test_a_dismissal_can_be_undone(people: People, client: TestClient) -> None:
    ling, fan = people.sign_up(), people.sign_up()
    client.post(f"/v1/follows/{ling.user_id}", headers=fan.auth)
    client.post(f"/v1/suggestions/{fan.user_id}/dismiss", headers=ling.auth)
    assert _list(client, ling) == []
    assert (
        client.delete(f"/v1/suggestions/{fan.user_id}/dismiss", headers=ling.auth).status_code
        == 204
    )
    assert len(_list(client, ling)) == 1


def test_blocking_ends_follows_both_ways_and_can_be_undone(
    people: People, client: TestClient
) -> None:
    ling, hu = people.sign_up(), people.sign_up()
    client.post(f"/v1/follows/{hu.user_id}", headers=ling.auth)
    client.post(f"/v1/follows/{ling.user_id}", headers=hu.auth)
    assert client.post(f"/v1/blocks/{hu.user_id}", headers=ling.auth).status_code == 204
    assert client.get("/v1/me/following", headers=ling.auth).json()["people"] == []
    assert client.get("/v1/me/following", headers=hu.auth).json()["people"] == []
    assert client.delete(f"/v1/blocks/{hu.user_id}", headers=ling.auth).status_code == 204
    assert client.delete(f"/v1/blocks/{hu.user_id}", headers=ling.auth).status_code == 404
    assert client.post(f"/v1/blocks/{ling.user_id}", headers=ling.auth).status_code == 422
    assert client.post("/v1/blocks/99999999999", headers=ling.auth).status_code == 404


@pytest.mark.parametrize("limit", [0, 101, -1, "ten"])
def test_limit_outside_one_to_a_hundred_is_refused(
    people: People, client: TestClient, limit: object
) -> None:
    ling = people.sign_up()
    response = client.get("/v1/suggestions", params={"limit": limit}, headers=ling.auth)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "limit"


def test_deletion_receipt_counts_precomputed_suggestions(
    people: People, client: TestClient, container: Container
) -> None:
    ling, far = people.sign_up(), people.sign_up()
    _fof(container, ling.user_id, far.user_id, 10, [])
    receipt = client.delete("/v1/me", headers=far.auth).json()["receipt"]
    assert receipt["erased"]["precomputed_suggestions"] == 1
    with container.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(FofCandidate)) == 0
