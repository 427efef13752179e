"""H7: no city is derived, stored or shown before location_city; withdrawal erases it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mayknow.bootstrap import Container
from mayknow.entrypoints.api.app import create_app
from mayknow.location.domain import City as Found
from mayknow.location.fake import FakeCityResolver
from mayknow.location.models import City
from mayknow.shared.clock import FakeClock
from tests.conftest import People, grant

CHENGDU = "61.139.2.69"  # 中国|四川省|成都市|电信 in the shipped ip2region data
BEIJING = "202.106.0.20"


@pytest.fixture
def chengdu(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), client=(CHENGDU, 50000)) as from_chengdu:
        yield from_chengdu


def _cities(container: Container) -> int:
    with container.uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(City)) or 0)


def test_a_chengdu_address_gives_no_city_then_chengdu_then_none(
    people: People, chengdu: TestClient, container: Container
) -> None:
    people.client = chengdu
    ling = people.sign_up("凌某")
    chengdu.put("/v1/me/settings", json={"show_city_on_profile": True}, headers=ling.auth)
    assert chengdu.get("/v1/me", headers=ling.auth).json()["city"] is None
    assert _cities(container) == 0  # nothing derived, nothing stored
    grant(chengdu, ling, "location_city")
    assert chengdu.get("/v1/me", headers=ling.auth).json()["city"] == "成都"
    english = chengdu.get("/v1/me", headers={**ling.auth, "Accept-Language": "en"})
    assert english.json()["city"] == "Chengdu"
    grant(chengdu, ling, "location_city", granted=False)
    assert chengdu.get("/v1/me", headers=ling.auth).json()["city"] is None
    assert _cities(container) == 0


def test_the_city_is_shown_only_with_display_on(
    people: People, chengdu: TestClient, container: Container
) -> None:
    people.client = chengdu
    ling = people.sign_up()
    grant(chengdu, ling, "location_city")
    assert _cities(container) == 1  # derived for the member, kept with its date...
    assert chengdu.get("/v1/me", headers=ling.auth).json()["city"] is None  # ...not shown
    export = chengdu.get("/v1/me/export", headers=ling.auth).json()
    assert export["city"]["name_zh"] == "成都"
    assert export["city"]["derived_at"] < export["city"]["expires_at"]


def test_the_city_expires_and_is_derived_again(
    people: People, container: Container, clock: FakeClock
) -> None:
    fake = FakeCityResolver(
        {
            CHENGDU: Found("成都", "Chengdu", "四川", "中国"),
            BEIJING: Found("北京", "Beijing", "北京", "中国"),
        }
    )
    container.location.resolver = fake
    container.location.lifetime = timedelta(days=2)  # shorter than a session's idle expiry
    with TestClient(create_app(container), client=(CHENGDU, 1)) as first:
        people.client = first
        ling = people.sign_up()
        first.put("/v1/me/settings", json={"show_city_on_profile": True}, headers=ling.auth)
        grant(first, ling, "location_city")
    with TestClient(create_app(container), client=(BEIJING, 1)) as later:
        assert later.get("/v1/me", headers=ling.auth).json()["city"] == "成都"
        clock.advance(days=1)
        assert later.get("/v1/me", headers=ling.auth).json()["city"] == "成都"
        clock.advance(days=1, seconds=1)
        assert later.get("/v1/me", headers=ling.auth).json()["city"] == "北京"


def test_private_addresses_and_untrusted_forwarding_give_no_city(
    people: People, client: TestClient, container: Container
) -> None:
    ling = people.sign_up()
    client.put("/v1/me/settings", json={"show_city_on_profile": True}, headers=ling.auth)
    grant(client, ling, "location_city")
    spoofed = client.get("/v1/me", headers={**ling.auth, "X-Forwarded-For": CHENGDU})
    assert spoofed.json()["city"] is None  # "testclient" is no trusted proxy
    with TestClient(create_app(container), client=("192.168.1.7", 1)) as lan:
        assert lan.get("/v1/me", headers=ling.auth).json()["city"] is None


def test_a_trusted_proxy_forwards_the_client_address(people: People, container: Container) -> None:
    container.settings = container.settings.__class__(
        **{**container.settings.__dict__, "trusted_proxies": ("10.0.0.0/8",)}
    )
    with TestClient(create_app(container), client=("10.1.2.3", 1)) as proxied:
        people.client = proxied
        ling = people.sign_up()
        proxied.put("/v1/me/settings", json={"show_city_on_profile": True}, headers=ling.auth)
        grant(proxied, ling, "location_city")
        forwarded = {**ling.auth, "X-Forwarded-For": f"203.0.113.9, {CHENGDU}, 10.0.0.5"}
        with container.uow.write() as session:  # forget it: the next request derives again
            container.location.erase(session, ling.user_id)
        assert proxied.get("/v1/me", headers=forwarded).json()["city"] == "成都"
