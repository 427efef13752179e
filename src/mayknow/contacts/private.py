"""Private discovery: the server evaluates blinded numbers and never sees one.

1. The client downloads the filter of all discoverable members' tags (or its changes).
2. It blinds each number (RFC 9497) and asks for their evaluation: each element costs a
   permit of the discovery quota, and each client address has an hourly cap.
3. It unblinds, checks the outputs against the filter and reports only those that hit;
   the server forms edges to the members whose tags match, under both consents, exactly as
   a plain sync would. A false positive of the filter simply matches nobody.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mayknow.accounts import ratelimit
from mayknow.accounts.sessions import Principal
from mayknow.consent.domain import Purpose
from mayknow.contacts import discovery
from mayknow.contacts.cuckoo import CuckooFilter
from mayknow.contacts.models import DiscoveryTag
from mayknow.contacts.service import LOOKUP_CHUNK, ContactService
from mayknow.identity import oprf
from mayknow.shared.errors import InvalidInput, NotFound

OUTPUT_BYTES = 64


@dataclass(frozen=True)
class PrivateLimits:
    evaluations_per_address_per_hour: int
    filter_max_age_seconds: float


@dataclass(frozen=True)
class Report:
    matched: list[dict[str, object]]
    unmatched: int
    removed: int


class FilterCache:
    """The published filter, rebuilt when members came or went, at most once per max age."""

    def __init__(self, max_age: float) -> None:
        self._lock = threading.Lock()
        self._max_age = max_age
        self._built_at = float("-inf")
        self._version = -1
        self._bytes = b""

    def current(self, session: Session) -> tuple[int, bytes]:
        with self._lock:
            fresh = time.monotonic() - self._built_at < self._max_age
            if not fresh and discovery.version(session) != self._version:
                self._version = discovery.version(session)
                self._bytes = CuckooFilter.build(discovery.all_tag8(session)).to_bytes()
                self._built_at = time.monotonic()
            return self._version, self._bytes


class PrivateDiscovery:
    def __init__(self, contacts: ContactService, limits: PrivateLimits) -> None:
        self.contacts, self.limits = contacts, limits
        self.uow, self.keys, self.clock = contacts.uow, contacts.keys, contacts.clock
        self.cache = FilterCache(limits.filter_max_age_seconds)

    def filter(self) -> tuple[int, bytes]:
        with self.uow.read() as session:
            return self.cache.current(session)

    def changes(self, since: int) -> discovery.Delta:
        with self.uow.read() as session:
            delta = discovery.changes_since(session, since)
        if delta is None:
            raise NotFound(
                "filter_too_old", "The change log no longer reaches back: download the filter."
            )
        return delta

    def evaluate(self, caller: Principal, elements: Sequence[bytes], address: str) -> list[bytes]:
        """Multiply each blinded element by the OPRF key; charge a permit for each."""
        with self.uow.write() as session:
            self.contacts.require_upload_consent(session, caller)
            self._limit_address(session, address, len(elements))
            self.contacts.take_permits(session, caller, len(elements))
            try:
                return oprf.blind_evaluate_many(self.keys.oprf_key(), elements)
            except oprf.InvalidElementError as exc:  # rolls the charges back
                raise InvalidInput(
                    "invalid_element",
                    "Not a valid ristretto255 element.",
                    field=f"elements[{exc.index}]",
                ) from None

    def _limit_address(self, session: Session, address: str, count: int) -> None:
        limit = self.limits.evaluations_per_address_per_hour
        key = self.keys.digest("rate-limit", b"oprf-address:" + address.encode())
        ratelimit.hit(
            session,
            key,
            now=self.clock.now(),
            window=timedelta(hours=1),
            limit=limit,
            code="rate_limited",
            message="Too many private look-ups from this address.",
            cost=count,
        )

    def report(self, caller: Principal, outputs: Sequence[bytes], replace: bool) -> Report:
        """Form edges to the discoverable members behind the reported outputs."""
        for index, output in enumerate(outputs):
            if len(output) != OUTPUT_BYTES:
                raise InvalidInput(
                    "invalid_output", "An output is 64 bytes.", field=f"outputs[{index}]"
                )
        with self.uow.write() as session:
            self.contacts.require_upload_consent(session, caller)
            found = self._members(session, caller, outputs)
            existing = self.contacts.edge_ids(session, caller.user_id)
            wanted = {uid for uid, _ in found.values()}
            removed = (
                self.contacts.remove_edges(session, caller.user_id, existing - wanted)
                if replace
                else 0
            )
            self.contacts.add_edges(session, caller.user_id, wanted - existing, "private")
        matched = [
            {"index": index, "user_id": uid, "nickname": name}
            for index, (uid, name) in sorted(found.items())
        ]
        return Report(matched, len(outputs) - len(matched), removed)

    def _members(
        self, session: Session, caller: Principal, outputs: Sequence[bytes]
    ) -> dict[int, tuple[int, str]]:
        """Report index -> (member, nickname) for outputs of discoverable members."""
        wanted = {output[: discovery.TAG_BYTES]: i for i, output in enumerate(outputs)}
        tags = list(wanted)
        rows = [
            row
            for start in range(0, len(tags), LOOKUP_CHUNK)
            for row in session.execute(
                select(DiscoveryTag.user_id, DiscoveryTag.tag).where(
                    DiscoveryTag.tag.in_(tags[start : start + LOOKUP_CHUNK])
                )
            )
        ]
        consent = self.contacts.consent
        members = {uid: tag for uid, tag in rows if uid != caller.user_id}
        allowed = consent.granted_among(session, members, Purpose.DISCOVERABLE_BY_PHONE)
        names = self.contacts.accounts.nicknames(session, sorted(allowed))
        return {wanted[members[uid]]: (uid, names[uid]) for uid in allowed}
