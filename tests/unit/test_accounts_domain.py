from __future__ import annotations

import pytest

from mayknow.accounts.domain import InvalidNickname, clean_nickname, looks_like_code, new_code
from mayknow.identity.phone import InvalidPhone, mask, parse_mobile


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13900001234", "+8613900001234"),
        ("+86 139-0000-1234", "+8613900001234"),
        ("0086 139 0000 1234", "+8613900001234"),
        ("+44 7400 123456", "+447400123456"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_mobile_numbers_become_e164(raw: str, e164: str) -> None:
    assert parse_mobile(raw, "CN") == e164


def test_region_decides_how_national_numbers_read() -> None:
    assert parse_mobile("07400 123456", "GB") == "+447400123456"
    with pytest.raises(InvalidPhone):
        parse_mobile("07400 123456", "CN")


def test_errors_never_carry_the_number() -> None:
    with pytest.raises(InvalidPhone) as caught:
        parse_mobile("10086", "CN")
    assert "10086" not in str(caught.value)


def test_masking_keeps_the_ends_only() -> None:
    assert mask("+8613900001234") == "+86 139****1234"
    assert mask("+447400123456") == "+44 740***3456"


def test_codes_are_six_digits() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(looks_like_code(c) for c in codes)
    assert len(codes) > 150
    assert not looks_like_code("12345")
    assert not looks_like_code("１２３４５６")


def test_nicknames_keep_chinese_and_emoji() -> None:
    assert clean_nickname(" 大饼🍪 ") == "大饼🍪"
    with pytest.raises(InvalidNickname):
        clean_nickname("zero\u200bwidth")
