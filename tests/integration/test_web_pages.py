"""The web app's pages, through the real FastAPI app: both languages, no preselected
choice, forms that change state, cross-site forms refused, no city before consent."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mayknow import bootstrap, config
from mayknow.accounts.sms import OutboxSender
from mayknow.entrypoints.api.app import create_app
from mayknow.location.domain import City
from mayknow.location.fake import FakeCityResolver
from mayknow.shared.clock import FakeClock
from tests.conftest import Member, People, grant

OURS = {"Origin": "http://testserver"}
CHENGDU = City(name_zh="成都", name_en="Chengdu", province_zh="四川", country_zh="中国")
ANONYMOUS_PAGES = ["/", "/policy", "/declined", "/how", "/login"]
MEMBER_PAGES = [
    "/welcome",
    "/follow",
    "/contacts",
    "/privacy",
    "/profile",
    "/operator",
    "/privacy/delete",
]


@pytest.fixture
def resolver() -> FakeCityResolver:
    return FakeCityResolver({"testclient": CHENGDU})


@pytest.fixture
def container(
    settings: config.Settings,
    engine: Engine,
    clock: FakeClock,
    outbox: OutboxSender,
    resolver: FakeCityResolver,
) -> bootstrap.Container:
    return bootstrap.build(
        settings, clock=clock, sms=outbox, engine=engine, migrate=False, resolver=resolver
    )


@pytest.fixture
def client(container: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


def signed_in(client: TestClient, member: Member) -> TestClient:
    client.cookies.set("mayknow_session", member.token)
    return client


def guard(html: str) -> str:
    found = re.search(r'name="form_guard" value="([0-9a-f]{64})"', html)
    assert found, "the page has no form of a signed-in member"
    return found.group(1)


def post(client: TestClient, path: str, page: str, **form: str) -> object:
    """Submit a form of ``page`` as the browser would: same origin, with its guard."""
    html = client.get(page).text
    return client.post(
        path, data={"form_guard": guard(html), **form}, headers=OURS, follow_redirects=False
    )


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_every_public_page_renders_in_chinese_by_default_and_in_english_on_request(
    client: TestClient, path: str
) -> None:
    chinese = client.get(path)
    english = client.get(path, params={"lang": "en"})
    by_header = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert chinese.status_code == english.status_code == by_header.status_code == 200
    assert '<html lang="zh-CN">' in chinese.text
    assert "可能认识的人" in chinese.text
    assert '<html lang="en">' in english.text
    assert "People you may know" in english.text
    assert '<html lang="en">' in by_header.text


@pytest.mark.parametrize("path", MEMBER_PAGES)
def test_every_member_page_renders_in_both_languages(
    client: TestClient, people: People, path: str
) -> None:
    signed_in(client, people.sign_up("凌某"))
    chinese, english = client.get(path), client.get(path, params={"lang": "en"})
    assert chinese.status_code == english.status_code == 200
    assert '<html lang="zh-CN">' in chinese.text
    assert "隐私" in chinese.text
    assert '<html lang="en">' in english.text
    assert "Privacy" in english.text
    assert 'href="/privacy?lang=en"' in english.text  # a chosen language stays chosen


def test_member_pages_send_a_visitor_to_log_in(client: TestClient) -> None:
    response = client.get("/privacy", params={"lang": "en"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fprivacy&lang=en"


def test_first_run_collects_nothing_and_preselects_no_answer(client: TestClient) -> None:
    response = client.get("/")
    html = response.text
    assert "set-cookie" not in response.headers
    assert "checked" not in html
    assert "autofocus" not in html
    assert "selected" not in html
    assert html.count('type="submit"') == 2
    assert ">同意</button>" in html
    assert ">不同意</button>" in html
    assert 'href="/policy#privacy"' in html  # the full text is one tap away
    assert "setTimeout" not in html
    assert "http-equiv" not in html


def test_sign_up_needs_the_policy_summary_first(client: TestClient) -> None:
    response = client.get("/signup", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_signing_up_through_the_pages_sets_only_the_session_cookie(
    client: TestClient, container: bootstrap.Container
) -> None:
    version = container.consent.policy_version
    sent = client.post(
        "/signup/code", data={"phone": "+86 139 0000 0001", "policy": version}, headers=OURS
    )
    code = re.search(r"data-dev-code>(\d{6})<", sent.text)
    assert code, "in --dev the page shows the code"
    created = client.post(
        "/signup",
        data={
            "phone": "+86 139 0000 0001",
            "code": code.group(1),
            "nickname": "凌某",
            "policy": version,
        },
        headers=OURS,
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/welcome"
    cookies = created.headers.get_list("set-cookie")
    assert len(cookies) == 1
    assert cookies[0].startswith("mayknow_session=")
    assert "HttpOnly" in cookies[0]
    assert "SameSite=lax" in cookies[0]
    consents = client.get("/v1/me/consents").json()["purposes"]
    assert not any(state["granted"] for state in consents.values())


def test_onboarding_cards_preselect_nothing_and_not_now_records_nothing(
    client: TestClient, people: People
) -> None:
    signed_in(client, people.sign_up())
    for step, purpose in enumerate(
        [
            "contacts_upload",
            "discoverable_by_phone",
            "suggest_from_others_contacts",
            "location_city",
        ],
        start=1,
    ):
        html = client.get("/welcome", params={"step": step}).text
        assert "checked" not in html
        assert "autofocus" not in html
        assert 'value="allow"' in html
        assert 'value="not_now"' in html
        answer = post(client, f"/welcome/{purpose}", "/welcome", step=str(step), choice="not_now")
        assert answer.status_code == 303  # type: ignore[attr-defined]
    consents = client.get("/v1/me/consents").json()["purposes"]
    assert not any(state["granted"] for state in consents.values())


def test_allow_on_a_card_grants_that_purpose_only(client: TestClient, people: People) -> None:
    signed_in(client, people.sign_up())
    post(client, "/welcome/discoverable_by_phone", "/welcome", step="2", choice="allow")
    consents = client.get("/v1/me/consents").json()["purposes"]
    assert [p for p, s in consents.items() if s["granted"]] == ["discoverable_by_phone"]
    history = client.get("/privacy").text
    assert "web" in history
    assert "turned on" not in history
    assert "开启" in history


def test_a_form_from_another_site_is_refused(client: TestClient, people: People) -> None:
    signed_in(client, people.sign_up())
    token = guard(client.get("/privacy").text)
    form = {"form_guard": token, "granted": "true"}
    evil = client.post(
        "/privacy/consents/location_city", data=form, headers={"Origin": "https://evil.example"}
    )
    silent = client.post("/privacy/consents/location_city", data=form)  # no Origin at all
    unguarded = client.post(
        "/privacy/consents/location_city", data={"granted": "true"}, headers=OURS
    )
    assert evil.status_code == silent.status_code == unguarded.status_code == 403
    assert 'data-code="cross_origin"' in evil.text
    assert 'data-code="form_expired"' in unguarded.text
    assert not client.get("/v1/me/consents").json()["purposes"]["location_city"]["granted"]


def test_no_city_is_looked_up_or_shown_before_the_location_choice(
    client: TestClient, people: People, resolver: FakeCityResolver
) -> None:
    signed_in(client, people.sign_up())
    for page in ("/follow", "/profile", "/privacy"):
        assert "成都" not in client.get(page).text
    assert resolver.calls == []  # not even looked up
    post(client, "/welcome/location_city", "/welcome", step="4", choice="allow")
    assert resolver.calls == ["testclient"]
    assert "成都" not in client.get("/profile").text  # derived, but display is off
    post(client, "/privacy/settings/show_city_on_profile", "/privacy", value="true")
    assert "data-city>成都<" in client.get("/profile").text
    assert "data-city>Chengdu<" in client.get("/profile", params={"lang": "en"}).text
    post(client, "/privacy/consents/location_city", "/privacy", granted="false")
    assert "成都" not in client.get("/profile").text  # withdrawal erased it


def test_the_follow_tab_shows_reasons_why_and_dismiss(client: TestClient, people: People) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    grant(client, ling, "discoverable_by_phone", "suggest_from_others_contacts")
    grant(client, hu, "contacts_upload", "suggest_me_to_my_contacts")
    client.post("/v1/contacts/sync", json={"phones": [ling.phone]}, headers=hu.auth)
    client.post(f"/v1/follows/{ling.user_id}", headers=hu.auth)
    signed_in(client, ling)
    html = client.get("/follow").text
    assert "胡子" in html
    assert "通讯录里存有您的号码" in html
    assert "关注了您" in html
    why = client.get(f"/follow/{hu.user_id}/why", headers={"X-Requested-With": "fetch"})
    assert "<html" not in why.text
    assert "此人的通讯录里存有您的号码" in why.text
    dismissed = post(client, f"/follow/{hu.user_id}/dismiss", "/follow", **{})
    assert dismissed.status_code == 303  # type: ignore[attr-defined]
    assert "胡子" not in client.get("/follow").text
    assert client.get(f"/follow/{hu.user_id}/why").status_code == 404


def test_withdrawing_a_consent_takes_effect_on_the_next_load(
    client: TestClient, people: People
) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    grant(client, ling, "discoverable_by_phone", "suggest_from_others_contacts")
    grant(client, hu, "contacts_upload", "suggest_me_to_my_contacts")
    client.post("/v1/contacts/sync", json={"phones": [ling.phone]}, headers=hu.auth)
    signed_in(client, ling)
    assert "胡子" in client.get("/follow").text
    post(client, "/privacy/consents/suggest_from_others_contacts", "/privacy", granted="false")
    assert "胡子" not in client.get("/follow").text
    assert "关闭" in client.get("/privacy").text  # the history shows the withdrawal


def test_in_place_changes_answer_with_the_changed_part_only(
    client: TestClient, people: People
) -> None:
    ling, fan = people.sign_up("凌某"), people.sign_up("大饼")
    client.post(f"/v1/follows/{ling.user_id}", headers=fan.auth)
    signed_in(client, ling)
    token = guard(client.get("/follow").text)
    answer = client.post(
        f"/follow/{fan.user_id}/follow",
        data={"form_guard": token},
        headers={**OURS, "X-Requested-With": "fetch"},
    )
    assert answer.status_code == 200
    assert 'data-outcome-done="followed"' in answer.text
    assert "<html" not in answer.text


def test_export_downloads_as_json_and_as_a_page(client: TestClient, people: People) -> None:
    signed_in(client, people.sign_up("凌某"))
    as_json = client.get("/privacy/export.json")
    assert "attachment" in as_json.headers["content-disposition"]
    assert as_json.json()["account"]["nickname"] == "凌某"
    as_html = client.get("/privacy/export.html")
    assert as_html.headers["content-type"].startswith("text/html")
    assert "attachment" in as_html.headers["content-disposition"]
    assert "凌某" in as_html.text


def test_deleting_the_account_shows_a_receipt_and_ends_the_session(
    client: TestClient, people: People
) -> None:
    member = people.sign_up("凌某")
    signed_in(client, member)
    answer = post(client, "/privacy/delete", "/privacy/delete")
    assert answer.status_code == 200  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    assert "data-receipt=" in html
    assert "<code>account</code>" in html
    assert "凌某" not in html
    assert 'mayknow_session=""' in answer.headers["set-cookie"]  # type: ignore[attr-defined]
    assert client.get("/v1/me", headers=member.auth).status_code == 401


def test_operator_console_refuses_a_look_up_without_a_reason(
    client: TestClient, people: People, container: bootstrap.Container
) -> None:
    staff, other = people.sign_up("值班员"), people.sign_up("胡子")
    container.operators.add(staff.user_id)
    signed_in(client, staff)
    refused = post(
        client,
        "/operator/recall",
        "/operator",
        viewer=str(staff.user_id),
        candidate=str(other.user_id),
        reason="  ",
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert 'data-code="reason_required"' in refused.text  # type: ignore[attr-defined]
    answered = post(
        client,
        "/operator/recall",
        "/operator",
        viewer=str(staff.user_id),
        candidate=str(other.user_id),
        reason="Complaint #42: why was this account suggested?",
    )
    assert answered.status_code == 200
    assert "data-recall" in answered.text


def test_how_suggestions_work_shows_the_weights_the_ranking_uses(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    custom = config.Settings(
        data_dir=tmp_path / "d", db=database_url, dev=True, weight_in_your_contacts=137
    )
    app = create_app(bootstrap.build(custom, engine=engine, migrate=False))
    with TestClient(app) as client:
        html = client.get("/how", params={"lang": "en"}).text
    assert "137 points" in html
    assert "137 + 60 = 197" in html


def test_pages_keep_scripts_styles_and_fonts_our_own(client: TestClient) -> None:
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "http://" not in response.text.replace("http://testserver", "")
    assert "https://" not in response.text
    assert client.get("/static/site.css").status_code == 200
    assert client.get("/static/vendor/private-discovery/index.js").status_code == 200


def test_an_error_is_a_page_in_the_visitors_language(client: TestClient, people: People) -> None:
    signed_in(client, people.sign_up())
    response = client.get("/follow/999999/why", params={"lang": "en"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "That person is not among your suggestions any more." in response.text


def test_the_privacy_centre_signs_one_other_session_out(client: TestClient, people: People) -> None:
    member = people.sign_up()
    other = client.post(
        "/v1/auth/login", json={"phone": member.phone, "code": people.code_for(member.phone)}
    ).json()["token"]
    client.cookies.clear()
    signed_in(client, member)
    page = client.get("/privacy").text
    ids = re.findall(r"/privacy/sessions/([0-9a-f]{16})/delete", page)
    assert len(ids) == 2
    target = hashlib.sha256(other.encode()).digest()[:8].hex()  # the id the page shows
    assert target in ids
    post(client, f"/privacy/sessions/{target}/delete", "/privacy")
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert client.get("/v1/me").status_code == 200  # this browser stays signed in
