from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import People


def test_following_back_makes_a_mutual_follow(people: People, client: TestClient) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    first = client.post(f"/v1/follows/{hu.user_id}", headers=ling.auth)
    assert first.json() == {"user_id": hu.user_id, "following": True, "mutual": False}
    back = client.post(f"/v1/follows/{ling.user_id}", headers=hu.auth)
    assert back.json()["mutual"] is True
    mutuals = client.get("/v1/me/mutuals", headers=ling.auth).json()["people"]
    assert mutuals == [{"user_id": hu.user_id, "nickname": "胡子"}]


def test_fans_and_following_are_two_sides_of_one_edge(people: People, client: TestClient) -> None:
    ling, bing = people.sign_up("凌某"), people.sign_up("大饼")
    client.post(f"/v1/follows/{ling.user_id}", headers=bing.auth)
    assert [
        p["user_id"] for p in client.get("/v1/me/fans", headers=ling.auth).json()["people"]
    ] == [bing.user_id]
    assert [
        p["user_id"] for p in client.get("/v1/me/following", headers=bing.auth).json()["people"]
    ] == [ling.user_id]
    assert client.get("/v1/me/following", headers=ling.auth).json()["people"] == []


def test_follow_is_idempotent_and_unfollow_removes_the_edge(
    people: People, client: TestClient
) -> None:
    ling, hu = people.sign_up(), people.sign_up()
    for _ in range(2):
        assert client.post(f"/v1/follows/{hu.user_id}", headers=ling.auth).status_code == 200
    assert len(client.get("/v1/me/following", headers=ling.auth).json()["people"]) == 1
    assert client.delete(f"/v1/follows/{hu.user_id}", headers=ling.auth).status_code == 204
    assert client.delete(f"/v1/follows/{hu.user_id}", headers=ling.auth).status_code == 204
    assert client.get("/v1/me/fans", headers=hu.auth).json()["people"] == []


def test_following_oneself_is_refused(people: People, client: TestClient) -> None:
    ling = people.sign_up()
    response = client.post(f"/v1/follows/{ling.user_id}", headers=ling.auth)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "cannot_follow_self"


def test_unknown_and_malformed_ids_are_simply_not_found(people: People, client: TestClient) -> None:
    ling = people.sign_up()
    for target in ("1099511627776", "abc", "-5", "1" * 40, "１２３"):
        for method in (client.post, client.delete):
            response = method(f"/v1/follows/{target}", headers=ling.auth)
            assert response.status_code == 404, target
            assert response.json()["error"]["code"] == "user_not_found"


def test_following_needs_a_session(people: People, client: TestClient) -> None:
    hu = people.sign_up()
    assert client.post(f"/v1/follows/{hu.user_id}").status_code == 401
