"""The plaintiff's scene, replayed in a browser against the demo population.

On 2019-02-09 the plaintiff, whose number twenty members already have in their address
books, installs the app in Chengdu, registers with that number and an empty address book,
and opens the follow tab (brief, "The scene to replay"). Each step checks what the court
asked for: H11 (no preselected, self-dismissing consent), H7 (no city before the location
choice), H4 (nothing from other people's address books before his own consent), H10
(reasons and "why"), withdrawal at the next load, export, and deletion with a receipt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from mayknow.demo import PLAINTIFF
from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

Shoot = Callable[..., None]


def only_the_session_cookie(context: BrowserContext) -> None:
    assert [c["name"] for c in context.cookies()] == ["mayknow_session"]


def reasons(page: Page) -> set[str]:
    kinds = page.locator("[data-card] .reason").evaluate_all(
        "items => items.map(item => item.dataset.kind)"
    )
    return set(kinds)


def sign_up(page: Page, phone: str, nickname: str) -> None:
    page.get_by_role("button", name="同意", exact=True).click()
    page.get_by_role("textbox", name="手机号码").fill(phone)
    page.get_by_role("button", name="发送验证码").click()
    code = page.locator("[data-dev-code]").inner_text()
    page.get_by_role("textbox", name="短信验证码").fill(code)
    page.get_by_role("textbox", name="昵称").fill(nickname)
    page.get_by_role("button", name="创建账号").click()


def let_their_apps_run(page: Page) -> None:
    page.get_by_role("button", name="让他们的应用马上运行").click()
    expect(page).to_have_url(re.compile(r"/follow$"))


def test_the_plaintiffs_scene(
    demo_server: Server, context: BrowserContext, page: Page, shoot: Shoot, tmp_path: Path
) -> None:
    base = demo_server.base
    # First run: the summary waits for an answer; nothing chosen, nothing collected (H11).
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("开始之前")
    assert "checked" not in page.content()
    page.wait_for_timeout(2500)  # Douyin's pop-up dismissed itself; this one stays
    expect(page.get_by_role("button", name="同意", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="不同意")).to_be_visible()
    assert context.cookies() == []
    shoot("1-first-run")
    shoot("1-first-run-screen", full_page=False)

    sign_up(page, PLAINTIFF, "凌某")
    expect(page.get_by_text("第 1 项，共 4 项")).to_be_visible()
    only_the_session_cookie(context)
    shoot("2-onboarding-card")
    page.get_by_role("button", name="暂不").click()  # no address book of his is read (H8)
    page.get_by_role("button", name="允许").click()  # people who have his number may find him
    expect(page.get_by_text("第 3 项，共 4 项")).to_be_visible()

    # Before the location choice: no city anywhere, though he is in Chengdu (H7).
    page.goto(f"{base}/profile")
    expect(page.get_by_role("heading", name="凌某")).to_be_visible()
    assert "成都" not in page.content()
    page.goto(f"{base}/follow")
    assert "成都" not in page.content()

    # Their apps sync and find him: two of them follow him. Nothing comes from their
    # address books until he agrees to it (H4).
    let_their_apps_run(page)
    expect(page.locator("[data-card]")).to_have_count(2)
    assert reasons(page) == {"follows_you"}
    expect(page.locator('[data-hint="suggest_from_others_contacts"]')).to_be_visible()
    shoot("3-before-his-consent")

    page.goto(f"{base}/welcome?step=3")
    page.get_by_role("button", name="允许").click()  # show me people who have my number
    page.get_by_role("button", name="允许").click()  # my city
    expect(page).to_have_url(re.compile(r"/follow$"))
    expect(
        page.locator('[data-card] .reason[data-kind="has_you_in_contacts"]').first
    ).to_be_visible()
    assert reasons(page) == {"has_you_in_contacts", "follows_you"}
    assert "成都" not in page.content()  # worked out now, but shown only if he turns that on
    shoot("4-suggestions-with-reasons")

    # "Why": the reasons and what had to hold for each (H10).
    card = page.locator("[data-card]").first
    card.get_by_role("link", name="为什么？").click()
    panel = card.locator("[data-why-panel]")
    expect(panel).to_contain_text("双重同意")
    shoot("5-why")
    shoot("5-why-screen", full_page=False)

    # Dismiss, in place; gone for good at the next load.
    name = card.locator(".name").inner_text()
    card.get_by_role("button", name="忽略").click()
    expect(card.locator("[data-outcome-done=dismissed]")).to_be_visible()
    page.reload()
    expect(page.locator(".name", has_text=name)).to_have_count(0)

    # His city, once he also shows it on his profile.
    page.goto(f"{base}/privacy")
    page.get_by_role("switch", name="在我的主页展示所在城市").click()
    page.goto(f"{base}/profile")
    expect(page.locator("[data-city]")).to_have_text("成都")
    shoot("6-profile-with-city")

    # Withdrawal takes effect at the next load.
    page.goto(f"{base}/privacy")
    switch = page.get_by_role("switch", name="看看谁存有我的号码")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(page.get_by_role("switch", name="看看谁存有我的号码")).to_have_attribute(
        "aria-checked", "false"
    )
    shoot("7-privacy-centre")
    shoot("7-privacy-centre-screen", full_page=False)
    page.goto(f"{base}/follow")
    assert "has_you_in_contacts" not in reasons(page)

    # Export, as JSON and as a page.
    page.goto(f"{base}/privacy")
    with page.expect_download() as download:
        page.locator("[data-export=json]").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["account"]["nickname"] == "凌某"
    assert exported["city"]["name_zh"] == "成都"
    assert [c["purpose"] for c in exported["consent_history"] if c["purpose"] != "account"] == [
        "discoverable_by_phone",
        "suggest_from_others_contacts",
        "location_city",
        "suggest_from_others_contacts",
    ]
    with page.expect_download() as download:
        page.locator("[data-export=html]").click()
    assert "凌某" in Path(download.value.path()).read_text()
    only_the_session_cookie(context)

    # Deletion, with a receipt of kinds and counts only.
    page.get_by_role("link", name="注销我的账号…").click()
    page.get_by_role("button", name="注销我的账号").click()
    expect(page.get_by_role("heading", name="您的账号已注销")).to_be_visible()
    receipt = page.locator("table.receipt").inner_text()
    assert "account" in receipt
    assert "凌某" not in receipt
    assert "成都" not in receipt
    assert context.cookies() == []
    shoot("8-receipt")
