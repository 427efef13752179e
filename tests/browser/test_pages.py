"""The operator console, the English switch, the one cookie, and the address book whose
names never leave the browser."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from mayknow.demo import member_phone
from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

Shoot = Callable[..., None]


def sign_up(page: Page, base: str, phone: str, nickname: str) -> int:
    """Sign up in English; answer the first card, skip the rest; return the account id."""
    page.goto(f"{base}/?lang=en")
    page.get_by_role("button", name="Agree", exact=True).click()
    page.get_by_role("textbox", name="Mobile number").fill(phone)
    page.get_by_role("button", name="Send code").click()
    page.get_by_role("textbox", name="Code from the text message").fill(
        page.locator("[data-dev-code]").inner_text()
    )
    page.get_by_role("textbox", name="Nickname").fill(nickname)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("link", name="Skip the remaining choices").click()
    page.get_by_role("link", name="Me").click()
    found = re.search(r"ID (\d+)", page.locator(".profile").inner_text())
    assert found
    return int(found.group(1))


def test_the_operator_console_refuses_a_look_up_without_a_reason(
    server: Server, page: Page, shoot: Shoot
) -> None:
    other = sign_up(page, server.base, "+8613900000009", "胡子")
    page.context.clear_cookies()
    staff = sign_up(page, server.base, "+8613900000008", "On duty")
    server.mayknow("operators", "add", str(staff))
    page.goto(f"{server.base}/operator?lang=en")
    page.get_by_role("textbox", name="Viewer").fill(str(staff))
    page.get_by_role("textbox", name="Suggested account").fill(str(other))
    page.get_by_role("textbox", name="Reason for this look-up").fill(" " * 12)  # blanks only
    page.get_by_role("button", name="Look up").click()
    expect(page.locator('[data-code="reason_required"]')).to_be_visible()
    expect(page.locator("[data-recall]")).to_have_count(0)
    shoot("refused")

    page.get_by_role("textbox", name="Reason for this look-up").fill(
        "Complaint 2019-0209: why is this account suggested?"
    )
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("[data-recall]")).to_contain_text("not suggested now")

    page.get_by_role("textbox", name="Reason for reading the log").fill("Checking the recall above")
    page.get_by_role("button", name="Show the newest events").click()
    log = page.locator("[data-audit]").inner_text()
    assert log.count("operator_recall") == 1  # the refused attempt looked nothing up
    assert "+86" not in log
    assert "139" not in log


@pytest.mark.parametrize("context", ["zh-CN"], indirect=True)
def test_english_by_switch_and_the_only_cookie_is_the_session(
    server: Server, context: BrowserContext, page: Page, shoot: Shoot
) -> None:
    page.goto(f"{server.base}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Before you start")
    page.get_by_role("link", name="How suggestions work").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the choice is kept
    expect(page.locator("[data-weights]")).to_contain_text("100 points")
    assert context.cookies() == []  # the language is remembered without a cookie
    shoot("how-suggestions-work")
    sign_up(page, server.base, "+8613900000007", "Ling")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert [c["name"] for c in context.cookies()] == ["mayknow_session"]
    cookie = context.cookies()[0]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


@pytest.mark.parametrize("context", ["en-GB"], indirect=True)
def test_accept_language_english_is_the_default_for_an_english_browser(
    server: Server, context: BrowserContext, page: Page
) -> None:
    page.goto(f"{server.base}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_address_book_names_stay_in_the_browser(
    demo_server: Server, page: Page, shoot: Shoot, tmp_path: Path
) -> None:
    sign_up(page, demo_server.base, "+8613900000005", "Visitor")
    page.goto(f"{demo_server.base}/contacts?lang=en")
    page.get_by_role("button", name="Turn on").click()
    book = tmp_path / "contacts.vcf"
    book.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:胡子\r\nTEL;TYPE=CELL:+86 139 0000 1003\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:大饼\r\nTEL:139-0000-1007\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nobody Here\r\nTEL:+86 139 0000 2999\r\nEND:VCARD\r\n"
    )
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" else None)
    page.get_by_label("A vCard (.vcf) or CSV file").set_input_files(str(book))
    page.get_by_role("button", name="Find with numbers").click()
    status = page.locator("#book-status")
    expect(status).to_contain_text("Found: 2")
    expect(page.locator("#book-found")).to_contain_text("胡子 → 张伟")
    body = json.loads(sent[-1].post_data or "{}")
    assert body == {"phones": ["+8613900001003", "+8613900001007", "+8613900002999"]}
    shoot("plain")
    page.locator("#book-forget").scroll_into_view_if_needed()
    shoot("plain-screen", full_page=False)

    page.get_by_role("button", name="Find privately").click()
    expect(status).to_contain_text("blinded elements", timeout=30_000)
    for request in sent[1:]:
        data = request.post_data or ""
        assert "13900001003" not in data
        assert "胡子" not in data
        assert "大饼" not in data
    assert [r.url.rsplit("/", 1)[-1] for r in sent[1:]] == ["evaluate", "report"]
    expect(page.locator("#book-found")).to_contain_text("大饼 → 赵磊")

    page.goto(f"{demo_server.base}/follow?lang=en")
    expect(page.locator(".local-name:not([hidden])").first).to_contain_text("Saved in this browser")
    assert member_phone(2) not in page.content()  # 张伟, whose number is +86 139 0000 1003
    shoot("follow-with-local-names")
