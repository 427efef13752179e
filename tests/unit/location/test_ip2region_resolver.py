"""The ip2region adapter against the real data file shipped by the pinned package.

Expected cities were read from that data (ip-region 1.0.6, generated 2024-02-28), not guessed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mayknow.location.domain import City, is_public_address
from mayknow.location.fake import FakeCityResolver
from mayknow.location.ip2region_resolver import (
    LAYOUT_V2,
    LAYOUT_V3,
    Ip2RegionCityResolver,
    default_resolver,
    parse_region,
    shipped_data_file,
)

CHENGDU = City(name_zh="成都", name_en="Chengdu", province_zh="四川", country_zh="中国")
BEIJING = City(name_zh="北京", name_en="Beijing", province_zh="北京", country_zh="中国")

NOT_PUBLIC = [
    "10.0.0.1",
    "192.168.1.1",
    "172.16.0.1",
    "127.0.0.1",
    "100.64.0.1",
    "100.127.255.254",
    "169.254.1.1",
    "0.0.0.0",  # noqa: S104 - an address to classify, not one to bind
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fec0::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "not-an-ip",
    "",
    "1.2.3",
    "999.1.1.1",
    " 61.139.2.69",
]


@pytest.fixture(scope="module")
def resolver() -> Ip2RegionCityResolver:
    return Ip2RegionCityResolver(shipped_data_file())


# Sichuan Telecom: its DNS server, and the start of one of its Chengdu blocks.
@pytest.mark.parametrize("address", ["61.139.2.69", "218.88.0.1"])
def test_chengdu_address_resolves_to_chengdu(resolver: Ip2RegionCityResolver, address: str) -> None:
    assert resolver.city_of(address) == CHENGDU


@pytest.mark.parametrize("address", ["202.106.0.20", "221.130.33.52"])
def test_beijing_address_resolves_to_beijing(resolver: Ip2RegionCityResolver, address: str) -> None:
    assert resolver.city_of(address) == BEIJING


@pytest.mark.parametrize(
    ("address", "name_zh", "name_en"),
    [
        ("202.96.209.5", "上海", "Shanghai"),
        ("113.118.113.77", "深圳", "Shenzhen"),
        ("223.5.5.5", "杭州", "Hangzhou"),
        ("114.114.114.114", "南京", "Nanjing"),
        ("60.30.1.1", "天津", "Tianjin"),
    ],
)
def test_big_chinese_cities_have_names_without_shi_suffix_and_english_names(
    resolver: Ip2RegionCityResolver, address: str, name_zh: str, name_en: str
) -> None:
    city = resolver.city_of(address)
    assert city is not None
    assert (city.name_zh, city.name_en, city.country_zh) == (name_zh, name_en, "中国")


def test_hong_kong_address_without_city_in_data_resolves_to_hong_kong(
    resolver: Ip2RegionCityResolver,
) -> None:
    assert resolver.city_of("1.36.0.1") == City("香港", "Hong Kong", "香港", "中国")


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_or_unparsable_address_gets_no_city(
    resolver: Ip2RegionCityResolver, address: str
) -> None:
    assert resolver.city_of(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "36.134.82.1",  # 中国|0|0|0|移动: country only
        "1.34.0.1",  # 中国|0|台湾省|0|中华电信: province only
        "8.8.8.8",  # 美国|0|0|0|Level3: country only
    ],
)
def test_address_whose_city_the_data_does_not_know_gets_no_city(
    resolver: Ip2RegionCityResolver, address: str
) -> None:
    assert resolver.city_of(address) is None


def test_foreign_address_with_known_city_keeps_the_data_names_without_english(
    resolver: Ip2RegionCityResolver,
) -> None:
    assert resolver.city_of("1.1.64.1") == City("东京", None, "东京都", "日本")


def test_ipv4_mapped_ipv6_address_is_looked_up_as_ipv4(resolver: Ip2RegionCityResolver) -> None:
    assert resolver.city_of("::ffff:61.139.2.69") == CHENGDU


def test_public_ipv6_address_gets_no_city_without_ipv6_data(
    resolver: Ip2RegionCityResolver,
) -> None:
    assert not resolver.resolves_ipv6
    assert resolver.city_of("2400:3200::1") is None


def test_shipped_data_is_dated_so_its_age_can_be_reported(resolver: Ip2RegionCityResolver) -> None:
    assert resolver.data_built_at.year >= 2024


def test_ipv4_file_given_as_ipv6_data_is_refused() -> None:
    v4 = shipped_data_file()
    with pytest.raises(ValueError, match="IPv4 data, IPv6 expected"):
        Ip2RegionCityResolver(v4, v6_path=v4)


def test_missing_data_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Ip2RegionCityResolver(tmp_path / "absent.xdb")


def test_default_resolver_is_loaded_once_and_resolves_chengdu() -> None:
    assert default_resolver() is default_resolver()
    assert default_resolver().city_of("61.139.2.69") == CHENGDU


def test_data_package_code_is_never_imported_as_it_calls_online_services() -> None:
    default_resolver().city_of("61.139.2.69")
    assert "ipregion" not in sys.modules


@pytest.mark.parametrize(
    ("region", "layout", "expected"),
    [
        ("中国|0|四川省|成都市|电信", LAYOUT_V2, CHENGDU),
        ("中国|0|北京|北京|0", LAYOUT_V2, BEIJING),
        ("中国|四川省|成都市|电信|CN", LAYOUT_V3, CHENGDU),
        ("中国|北京市|北京市|联通|CN", LAYOUT_V3, BEIJING),
        ("中国|香港|0|电讯盈科|HK", LAYOUT_V3, City("香港", "Hong Kong", "香港", "中国")),
        (
            "中国|四川省|甘孜藏族自治州|电信|CN",
            LAYOUT_V3,
            City("甘孜藏族自治州", None, "四川", "中国"),
        ),
        (
            "Australia|Queensland|Brisbane|0|AU",
            LAYOUT_V3,
            City("Brisbane", "Brisbane", "Queensland", "Australia"),
        ),
        ("United States|0|0|0|US", LAYOUT_V3, None),
        ("中国|四川省|0|电信|CN", LAYOUT_V3, None),
        ("0|0|0|内网IP|内网IP", LAYOUT_V2, None),
        ("中国|0|0|0|阿里云", LAYOUT_V2, None),
        ("中国|四川", LAYOUT_V2, None),
        ("", LAYOUT_V2, None),
    ],
)
def test_region_strings_of_both_layouts_parse_to_city(
    region: str, layout: int, expected: City | None
) -> None:
    assert parse_region(region, layout) == expected


@pytest.mark.parametrize("address", ["61.139.2.69", "2400:3200::1", "::ffff:61.139.2.69"])
def test_global_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_special_purpose_or_unparsable_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


def test_fake_resolver_answers_from_its_mapping_and_records_calls() -> None:
    fake = FakeCityResolver({"203.0.113.7": CHENGDU})
    assert fake.city_of("203.0.113.7") == CHENGDU
    assert fake.city_of("198.51.100.1") is None
    assert fake.calls == ["203.0.113.7", "198.51.100.1"]
