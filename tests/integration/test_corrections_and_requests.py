"""Correction, single-item erasure, the readable export and tracked requests (PIPL 45–50)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mayknow.bootstrap import Container
from mayknow.contacts.models import DiscoveryTag
from mayknow.entrypoints.cli import app
from mayknow.location.models import City
from mayknow.rights.domain import due_after
from tests.conftest import Member, People, grant

NEW_NUMBER = "+8613900009090"


def test_the_nickname_can_be_corrected(people: People, client: TestClient) -> None:
    ling = people.sign_up("凌某")
    response = client.patch("/v1/me", json={"nickname": "  凌某某 "}, headers=ling.auth)
    assert response.json()["nickname"] == "凌某某"
    bad = client.patch("/v1/me", json={"nickname": "a\x00"}, headers=ling.auth)
    assert bad.status_code == 422
    assert client.get("/v1/me", headers=ling.auth).json()["nickname"] == "凌某某"


def _new_code(people: People, client: TestClient, member: Member, number: str) -> str:
    people.clock.advance(seconds=61)
    sent = client.post("/v1/me/phone/code", json={"phone": number}, headers=member.auth)
    assert sent.status_code == 202
    code = people.outbox.last_code(number)
    assert code is not None
    return code


def test_a_new_number_rekeys_the_account_and_drops_links_to_the_old_one(
    people: People, client: TestClient, container: Container
) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    grant(client, ling, "discoverable_by_phone")
    grant(client, hu, "contacts_upload")
    client.post("/v1/contacts/sync", json={"phones": [ling.phone]}, headers=hu.auth)
    with container.uow.read() as session:
        old_tag = session.get(DiscoveryTag, ling.user_id)
        assert old_tag is not None
        old_tag_bytes = old_tag.tag
    wrong = client.put(
        "/v1/me/phone", json={"phone": NEW_NUMBER, "code": "000000"}, headers=ling.auth
    )
    assert wrong.status_code == 422
    code = _new_code(people, client, ling, NEW_NUMBER)
    changed = client.put(
        "/v1/me/phone", json={"phone": NEW_NUMBER, "code": code}, headers=ling.auth
    )
    assert changed.status_code == 200
    assert changed.json()["erased"]["contact_edges"] == 1
    assert client.get("/v1/me", headers=ling.auth).json()["phone_masked"] == "+86 139****9090"
    with container.uow.read() as session:
        new_tag = session.get(DiscoveryTag, ling.user_id)
        assert new_tag is not None
        assert new_tag.tag != old_tag_bytes
    login = client.post(
        "/v1/auth/login", json={"phone": NEW_NUMBER, "code": people.code_for(NEW_NUMBER)}
    )
    assert login.json()["user_id"] == ling.user_id
    old = client.post(
        "/v1/auth/login", json={"phone": ling.phone, "code": people.code_for(ling.phone)}
    )
    assert old.status_code == 404


def test_a_number_taken_by_another_member_is_refused(people: People, client: TestClient) -> None:
    ling, hu = people.sign_up(), people.sign_up()
    code = _new_code(people, client, ling, hu.phone)
    response = client.put("/v1/me/phone", json={"phone": hu.phone, "code": code}, headers=ling.auth)
    assert response.status_code == 409
    assert client.get("/v1/me", headers=ling.auth).json()["phone_masked"].endswith(ling.phone[-4:])


def test_the_export_reads_as_a_page(people: People, client: TestClient) -> None:
    ling = people.sign_up("<script>凌</script>")
    page = client.get("/v1/me/export", params={"format": "html"}, headers=ling.auth)
    assert page.headers["content-type"].startswith("text/html")
    assert "我的个人信息副本" in page.text
    assert "<script>凌" not in page.text  # escaped
    assert "&lt;script&gt;凌" in page.text
    english = client.get(
        "/v1/me/export", params={"format": "html"}, headers={**ling.auth, "Accept-Language": "en"}
    )
    assert "My personal data" in english.text
    assert (
        client.get("/v1/me/export", params={"format": "pdf"}, headers=ling.auth).status_code == 422
    )


def test_one_session_can_be_signed_out(people: People, client: TestClient) -> None:
    ling = people.sign_up()
    second = client.post(
        "/v1/auth/login", json={"phone": ling.phone, "code": people.code_for(ling.phone)}
    ).json()["token"]
    listed = client.get("/v1/me/sessions", headers=ling.auth).json()["sessions"]
    assert len(listed) == 2
    for entry in listed:
        client.delete(
            f"/v1/me/sessions/{entry['id']}", headers={"Authorization": f"Bearer {second}"}
        )
        break
    remaining = [
        t
        for t in (ling.token, second)
        if client.get("/v1/me", headers={"Authorization": f"Bearer {t}"}).status_code == 200
    ]
    assert len(remaining) == 1
    assert (
        client.delete(
            "/v1/me/sessions/ffffffffffffffff", headers={"Authorization": f"Bearer {remaining[0]}"}
        ).status_code
        == 404
    )


def test_fifteen_working_days_skip_weekends() -> None:
    friday = datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert due_after(friday) == datetime(2026, 12, 18, 9, tzinfo=UTC)


def test_working_days_follow_the_holidays_and_make_up_days_in_china() -> None:
    # Received Monday 28 September 2026, 10:00 in Beijing. National Day: 1-7 October off,
    # Saturday 10 October worked in lieu. Counted: 29, 30 Sep; 8, 9, 10 (Sat), 12-16,
    # 19-23 Oct: the fifteenth working day is Friday 23 October.
    received = datetime(2026, 9, 28, 2, tzinfo=UTC)
    assert due_after(received) == datetime(2026, 10, 23, 2, tzinfo=UTC)


def test_the_day_is_the_day_in_china_not_in_utc() -> None:
    # Friday 27 November 2026, 20:00 UTC is already Saturday 04:00 in Beijing: counting
    # starts after Saturday, so Monday 30 November is the first working day.
    late = datetime(2026, 11, 27, 20, tzinfo=UTC)
    assert due_after(late, working_days=1) == datetime(2026, 11, 29, 20, tzinfo=UTC)


def test_a_request_is_tracked_and_a_refusal_states_its_reason(
    people: People, client: TestClient, container: Container
) -> None:
    ling = people.sign_up()
    staff = people.sign_up("客服")
    settings = container.settings
    CliRunner().invoke(
        app,
        [
            "operators",
            "add",
            str(staff.user_id),
            "--db",
            settings.database_url,
            "--data-dir",
            str(settings.data_dir),
        ],
    )
    opened = client.post(
        "/v1/me/requests",
        json={"kind": "explanation", "details": "为什么推荐胡子给我？"},
        headers=ling.auth,
    )
    assert opened.status_code == 202
    request = opened.json()
    assert request["status"] == "open"
    assert request["due_at"] > request["received_at"]
    reason = {"reason": "handling the weekly queue"}
    queue = client.get("/v1/admin/requests", params=reason, headers=staff.auth).json()
    assert [r["id"] for r in queue["requests"]] == [request["id"]]
    close = f"/v1/admin/requests/{request['id']}/close"
    assert client.post(close, json={"outcome": "refused"}, headers=staff.auth).status_code == 422
    assert client.post(close, json={"outcome": "done"}, headers=ling.auth).status_code == 403
    done = client.post(
        close, json={"outcome": "refused", "reason": "答复见“推荐原理”页"}, headers=staff.auth
    )
    assert done.json()["status"] == "refused"
    mine = client.get("/v1/me/requests", headers=ling.auth).json()["requests"]
    assert mine[0]["refusal_reason"] == "答复见“推荐原理”页"
    assert client.post(close, json={"outcome": "done"}, headers=staff.auth).status_code == 409
    assert (
        client.post(
            "/v1/me/requests", json={"kind": "magic", "details": "x"}, headers=ling.auth
        ).status_code
        == 422
    )


def test_the_city_alone_can_be_erased(
    people: People, container: Container, client: TestClient
) -> None:
    ling = people.sign_up()
    now = container.clock.now()
    with container.uow.write() as session:
        session.add(
            City(
                user_id=ling.user_id,
                name_zh="成都",
                name_en="Chengdu",
                province_zh="四川",
                derived_at=now,
                expires_at=now,
            )
        )
    assert client.delete("/v1/me/city", headers=ling.auth).status_code == 204
    with container.uow.read() as session:
        assert session.get(City, ling.user_id) is None
