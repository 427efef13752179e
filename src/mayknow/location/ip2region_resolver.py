"""City of a client address from ip2region's offline xdb data, read with ``py-ip2region``.

Every xdb file is read whole into memory once, when the resolver is built (the reader's
"content buffer" mode: no disk I/O per lookup, and one searcher is safe to share between
threads). Only public addresses are looked up; see :func:`mayknow.location.domain.public_address`.

The data comes from the PyPI package ``ip-region`` (pinned 1.0.6, Apache-2.0), which ships
ip2region's IPv4 ``ip2region.xdb`` (xdb structure 2, generated 2024-02-28). Only its data
file is read: its own code is never imported (it queries online services). No registry
package ships the IPv6 ``ip2region_v6.xdb``; pass one as ``v6_path`` to resolve IPv6 too.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import ip2region.searcher as xdb
import ip2region.util as xdb_util

from mayknow.location.domain import City, CityResolver, public_address

DATA_DISTRIBUTION = "ip-region==1.0.6"
DATA_PACKAGE = "ipregion"  # the import name of ip-region; located, never imported
DATA_FILE = ("ip2region.xdb",)

# Field order of the region string, which changed with the xdb structure:
LAYOUT_V2 = 2  # structure 2: 国家|区域|省份|城市|ISP, e.g. 中国|0|四川省|成都市|电信
LAYOUT_V3 = 3  # structure 3: Country|Province|City|ISP|ISO, e.g. 中国|四川省|成都市|电信|CN
_FIELDS = {LAYOUT_V2: (0, 2, 3), LAYOUT_V3: (0, 1, 2)}  # country, province, city

CHINA = "中国"
_UNKNOWN = frozenset({"", "0", "内网IP"})
# Where the data knows no city below the province, the province is the city.
_CITY_LEVEL_PROVINCES = frozenset({"北京", "上海", "天津", "重庆", "香港", "澳门"})

CITY_NAMES_EN: Mapping[str, str] = MappingProxyType(
    {
        # municipalities and special administrative regions
        "北京": "Beijing",
        "上海": "Shanghai",
        "天津": "Tianjin",
        "重庆": "Chongqing",
        "香港": "Hong Kong",
        "澳门": "Macau",
        # provincial capitals
        "石家庄": "Shijiazhuang",
        "太原": "Taiyuan",
        "呼和浩特": "Hohhot",
        "沈阳": "Shenyang",
        "长春": "Changchun",
        "哈尔滨": "Harbin",
        "南京": "Nanjing",
        "杭州": "Hangzhou",
        "合肥": "Hefei",
        "福州": "Fuzhou",
        "南昌": "Nanchang",
        "济南": "Jinan",
        "郑州": "Zhengzhou",
        "武汉": "Wuhan",
        "长沙": "Changsha",
        "广州": "Guangzhou",
        "南宁": "Nanning",
        "海口": "Haikou",
        "成都": "Chengdu",
        "贵阳": "Guiyang",
        "昆明": "Kunming",
        "拉萨": "Lhasa",
        "西安": "Xi'an",
        "兰州": "Lanzhou",
        "西宁": "Xining",
        "银川": "Yinchuan",
        "乌鲁木齐": "Urumqi",
        "台北": "Taipei",
        # other big cities
        "深圳": "Shenzhen",
        "苏州": "Suzhou",
        "东莞": "Dongguan",
        "佛山": "Foshan",
        "宁波": "Ningbo",
        "青岛": "Qingdao",
        "大连": "Dalian",
        "厦门": "Xiamen",
        "无锡": "Wuxi",
        "温州": "Wenzhou",
        "泉州": "Quanzhou",
        "珠海": "Zhuhai",
    }
)


def _without_suffix(name: str, suffixes: str) -> str:
    """成都市 -> 成都, 四川省 -> 四川; a name is never cut below two characters."""
    if len(name) > 2 and name[-1] in suffixes:
        return name[:-1]
    return name


@functools.cache  # the data holds some 14k distinct region strings
def parse_region(region: str, layout: int) -> City | None:
    """The city named by one region string of the given layout, or None if it names none.

    Outside China the data may name cities in Latin script (always, in layout 3); such a
    name is kept as it is in ``name_zh`` and also given as ``name_en``.
    """
    fields = region.split("|")
    if len(fields) < 5:
        return None
    country_at, province_at, city_at = _FIELDS[layout]
    country, province, city = fields[country_at], fields[province_at], fields[city_at]
    if country in _UNKNOWN:
        return None
    province = "" if province in _UNKNOWN else _without_suffix(province, "省市")
    if city not in _UNKNOWN:
        name = _without_suffix(city, "市")
    elif country == CHINA and province in _CITY_LEVEL_PROVINCES:
        name = province
    else:
        return None
    name_en = CITY_NAMES_EN.get(name) if country == CHINA else None
    if name_en is None and name.isascii():
        name_en = name
    return City(name_zh=name, name_en=name_en, province_zh=province, country_zh=country)


@dataclass(frozen=True)
class _Table:
    searcher: xdb.Searcher
    layout: int
    built_at: datetime

    @classmethod
    def load(cls, path: str | os.PathLike[str], version: xdb_util.Version) -> _Table:
        with open(path, "rb") as handle:
            xdb_util.verify(handle)  # raises when this reader cannot read the file
            content = xdb_util.load_content(handle)
        header = xdb_util.Header(content[: xdb_util.HeaderInfoLength])
        found = xdb_util.version_from_header(header)
        if found is None or found.id != version.id:
            held = "unknown" if found is None else found.name
            raise ValueError(f"{os.fspath(path)} holds {held} data, {version.name} expected")
        layout = LAYOUT_V2 if header.version < xdb_util.XdbStructure30 else LAYOUT_V3
        return cls(
            searcher=xdb.new_with_buffer(version, content),
            layout=layout,
            built_at=datetime.fromtimestamp(header.createdAt, UTC),
        )

    def city_of(self, packed: bytes) -> City | None:
        return parse_region(self.searcher.search(packed), self.layout)


class Ip2RegionCityResolver:
    """A :class:`CityResolver` over ip2region xdb files held in memory; thread-safe."""

    def __init__(
        self,
        v4_path: str | os.PathLike[str],
        v6_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self._v4 = _Table.load(v4_path, xdb_util.IPv4)
        self._v6 = None if v6_path is None else _Table.load(v6_path, xdb_util.IPv6)

    @property
    def data_built_at(self) -> datetime:
        """When the IPv4 data file was generated, to tell how stale it is."""
        return self._v4.built_at

    @property
    def resolves_ipv6(self) -> bool:
        return self._v6 is not None

    def city_of(self, address: str) -> City | None:
        ip = public_address(address)
        if ip is None:
            return None
        table = self._v4 if ip.version == 4 else self._v6
        return None if table is None else table.city_of(ip.packed)


def shipped_data_file() -> Path:
    """The IPv4 xdb file of the pinned data package, found without importing the package."""
    spec = importlib.util.find_spec(DATA_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations)), *DATA_FILE)
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"ip2region data not found: install {DATA_DISTRIBUTION} (import name {DATA_PACKAGE})"
    )


@functools.cache
def default_resolver() -> CityResolver:
    """One resolver per process over the shipped data (about 11 MB held in memory)."""
    return Ip2RegionCityResolver(shipped_data_file())
