from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mayknow.consent.domain import Purpose, Setting
from mayknow.policy.texts import LANGUAGES, current_version, negotiate, policy


def test_policy_is_served_in_chinese_by_default_and_english_on_request(client: TestClient) -> None:
    chinese = client.get("/v1/policy").json()
    english = client.get("/v1/policy", headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
    assert chinese["language"] == "zh-CN"
    assert english["language"] == "en"
    assert chinese["version"] == english["version"] == current_version()
    assert "隐私" in chinese["full"]
    assert "privacy" in english["full"].lower()
    assert set(chinese) == {"version", "language", "summary", "full", "terms"}


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("en", "en"),
        ("zh-CN,en;q=0.5", "zh-CN"),
        ("en;q=0.4,zh;q=0.9", "zh-CN"),
        ("fr-FR,en;q=0.8", "en"),
        ("de", "zh-CN"),
        ("en;q=oops", "zh-CN"),
    ],
)
def test_language_negotiation(header: str | None, language: str) -> None:
    assert negotiate(header) == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_policy_discloses_every_purpose_and_setting(language: str) -> None:
    text = policy(language).full
    for name in [*(p.value for p in Purpose), *(s.value for s in Setting)]:
        assert f"`{name}`" in text, f"{language} policy does not mention {name}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_policy_states_retention_and_every_right(language: str) -> None:
    text = policy(language).full
    expected = (
        ["30", "15", "/v1/me/export", "DELETE /v1/me"]
        if language == "en"
        else ["30", "15", "/v1/me/export", "DELETE /v1/me", "撤回", "删除", "更正", "复制"]
    )
    for needle in expected:
        assert needle in text, needle
