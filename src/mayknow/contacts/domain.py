"""Rules of address-book sync that need no database. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ParsedBook:
    """The valid, distinct numbers of an upload (first index of each) and the invalid indexes."""

    numbers: dict[str, int]  # E.164 -> index in the request
    invalid: list[int]


def parse_book(
    entries: Sequence[object], parse: Callable[[object], str], own: str | None
) -> ParsedBook:
    """Parse every entry; drop duplicates and the uploader's own number; note the invalid."""
    numbers: dict[str, int] = {}
    invalid: list[int] = []
    for index, raw in enumerate(entries):
        try:
            e164 = parse(raw)
        except ValueError:
            invalid.append(index)
            continue
        if e164 != own:
            numbers.setdefault(e164, index)
    return ParsedBook(numbers, invalid)


QUOTA_TOKEN_CONTEXT = b"mayknow-discovery-quota-v1\n"


def set_token(secret: bytes, numbers: Iterable[str]) -> bytes:
    """The token a client proves its previous set with: SHA-256(context, secret, sorted set).

    Only the client keeps ``secret``; the server keeps a keyed digest of the token. Python
    clients compute it with ``mayknow.client``; the formula is documented in docs/contacts.md.
    """
    body = "\n".join(sorted(set(numbers))).encode()
    return hashlib.sha256(QUOTA_TOKEN_CONTEXT + secret + b"\n" + body).digest()


@dataclass(frozen=True)
class Bucket:
    """A token bucket of permits: ``capacity`` at most, ``per_hour`` added back each hour."""

    capacity: int
    per_hour: int

    def refill(self, permits: int, since: datetime, now: datetime) -> tuple[int, datetime]:
        """Permits now, and the moment up to which refills have been counted."""
        if permits >= self.capacity or self.per_hour <= 0:
            return min(permits, self.capacity), now
        step = timedelta(hours=1) / self.per_hour
        earned = int((now - since) / step)
        if permits + earned >= self.capacity:
            return self.capacity, now
        return permits + earned, since + earned * step

    def wait_for(self, missing: int) -> int:
        """Seconds until ``missing`` more permits have been added back."""
        if self.per_hour <= 0:
            return 86_400
        return max(1, int(missing * 3600 / self.per_hour) + 1)
