"""The CN mobile fast path answers exactly as phonenumbers' full parser does."""

from __future__ import annotations

import random

import pytest

from mayknow.identity import phone
from mayknow.identity.phone import InvalidPhone, parse_mobile


def outcome(parse: object, raw: object, region: str = "CN") -> str:
    assert callable(parse)
    try:
        return str(parse(raw, region))
    except InvalidPhone:
        return "invalid"


def _national(rng: random.Random) -> str:
    """11 digits beginning with 1: mobiles of every block, and the 10/11/12/17x look-alikes."""
    second = rng.choice("0123456789")
    return "1" + second + "".join(rng.choice("0123456789") for _ in range(9))


def _written(rng: random.Random, national: str) -> str:
    prefix = rng.choice(["", "", "+86", "+86 ", "0086", "0086 ", "86", "86 ", "+ 86 ", "00 86"])
    a, b, c = national[:3], national[3:7], national[7:]
    body = rng.choice(
        [
            national,
            f"{a} {b} {c}",
            f"{a}-{b}-{c}",
            f"{a} {b}{c}",
            f"{a}-{b} {c}",
            f" {national} ",
            "-".join(national),
            f"({a}) {b} {c}",
            f"{a}.{b}.{c}",
            f"0{national}",
        ]
    )
    return prefix + body


ODD: list[object] = [
    "",
    " ",
    "-",
    "abc",
    None,
    13912345678,
    "+",
    "++8613912345678",
    "+-86 139 1234 5678",
    "-13912345678-",
    "1" * 70,
    "+86 139 1234 5678" + " " * 60,
    "+86 (139) 1234 5678",
    "+86 139 1234 5678 ext. 12",
    "13912345678#",
    "tel:+8613912345678",
    "\uff11\uff13\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",  # full-width digits
    "\u0661\u0663\u0669\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",  # Arabic-Indic
    "13912345678\n",
    "\t13912345678",
    "8613912345678",
    "868613912345678",
    "+8686 139 1234 5678",
    "0086 0086 139 1234 5678",
    "+1 415 555 2671",
    "+44 7400 123456",
    "+852 5123 4567",
    "010 6552 9988",
    "+86 10 6552 9988",
    "10086",
    "17400123456",
    "17406123456",
    "16101234567",
    "11234567890",
    "12345678901",
    "17912345678",
]


def generated(count: int, seed: int) -> list[object]:
    rng = random.Random(seed)
    out = list(ODD)
    for _ in range(count):
        out.append(_written(rng, _national(rng)))
    for _ in range(count // 10):  # other lengths and shapes
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 14)))
        out.append(rng.choice(["", "+86", "0086", "86", "+1 ", "+44 ", "0", "+852 "]) + digits)
    return out


def test_fast_path_agrees_with_phonenumbers_on_generated_inputs() -> None:
    inputs = generated(40_000, seed=20261128)
    fast_hits = 0
    for raw in inputs:
        expected = outcome(phone._parse_full, raw)
        assert outcome(parse_mobile, raw) == expected, repr(raw)
        if isinstance(raw, str) and expected != "invalid":
            fast_hits += 1
    assert fast_hits > 10_000  # the generated inputs do reach valid mobiles


def test_every_mobile_block_agrees_with_phonenumbers() -> None:
    """Each 4-digit block 1000-1999, with a few random endings each, in three shapes."""
    rng = random.Random(7)
    for block in range(1000, 2000):
        for _ in range(4):
            national = f"{block}{rng.randrange(10**7):07d}"
            for raw in (
                national,
                f"+86 {national[:3]} {national[3:7]} {national[7:]}",
                "0086" + national,
            ):
                assert outcome(parse_mobile, raw) == outcome(phone._parse_full, raw), raw


@pytest.mark.parametrize(
    "raw",
    ["+86 139 1234 5678", "139-1234-5678", "13912345678", "0086 139 1234 5678", "86 13912345678"],
)
def test_common_shapes_take_the_fast_path(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(raw: object, region: str) -> str:
        raise AssertionError("the full parser was used")

    monkeypatch.setattr(phone, "_parse_full", refuse)
    assert parse_mobile(raw, "CN") == "+8613912345678"


def test_other_regions_go_the_full_way() -> None:
    assert parse_mobile("07400 123456", "GB") == "+447400123456"
    with pytest.raises(InvalidPhone):
        parse_mobile("13912345678", "GB")
