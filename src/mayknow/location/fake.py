"""A :class:`CityResolver` for tests of other code: answers from a fixed mapping."""

from __future__ import annotations

from mayknow.location.domain import City


class FakeCityResolver:
    """Resolves exactly the addresses in ``mapping``; records every address asked about.

    ``calls`` lets a test check that no city was looked up, e.g. without consent.
    """

    def __init__(self, mapping: dict[str, City]) -> None:
        self._mapping = dict(mapping)
        self.calls: list[str] = []

    def city_of(self, address: str) -> City | None:
        self.calls.append(address)
        return self._mapping.get(address)
