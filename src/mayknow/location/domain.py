"""The city a client address is in, as the domain sees it. Pure: stdlib only.

Deriving a city is allowed only after the user's ``location_city`` consent; the
service layer checks that before it calls a :class:`CityResolver`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Shared address space for carrier-grade NAT (RFC 6598): not private, not global either.
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")


@dataclass(frozen=True)
class City:
    """A city as shown to people: ``name_zh`` has no trailing 市 ("成都", not "成都市")."""

    name_zh: str
    name_en: str | None
    province_zh: str
    country_zh: str


class CityResolver(Protocol):
    def city_of(self, address: str) -> City | None:
        """The city of a client address, or None when it is unknown or not public."""
        ...


def public_address(address: str) -> IPAddress | None:
    """The parsed address when it is a public one, else None.

    None for unparsable strings and for private, loopback, link-local, reserved,
    multicast, unspecified, IPv6 site-local and carrier-grade NAT (100.64.0.0/10)
    addresses. An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is judged, and
    returned, as IPv4.
    """
    try:
        ip: IPAddress = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    ):
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        return None if ip in _CGNAT else ip
    return None if ip.is_site_local else ip


def is_public_address(address: str) -> bool:
    """Only public addresses ever get a city."""
    return public_address(address) is not None
