"""What mayknow's store would hold for a population, and the service's rules, in memory.

``World.ranked`` is ``SuggestionService._ranked`` (src/mayknow/suggestions/service.py)
without a database: the same sources with the same consent checks, the same exclusions,
then the domain's own ``gather`` and ``rank`` with the service's weights. Member ids are
the population's user ids, so ties break by account id as they do in production.

What the store holds, as sync and the withdrawal cascades keep it: an address-book link
uploader -> member exists only while the uploader grants ``contacts_upload`` and the
member ``discoverable_by_phone``. Assumed: every book was synced after the newcomers
joined (a phone app re-syncs), so a newcomer's number is matched in older books too.
Not modelled: blocks, dismissals, ``suggestions_enabled`` off (no newcomer has any yet).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from mayknow.suggestions.domain import Candidate, Kind, Reason, Weights, gather, rank

Bools = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Consents:
    """Per member index: each purpose granted, and recommend_me_to_others turned off."""

    contacts_upload: Bools
    discoverable_by_phone: Bools
    suggest_me_to_my_contacts: Bools
    suggest_from_others_contacts: Bools
    recommend_off: Bools

    @classmethod
    def at_rate(cls, draws: npt.NDArray[np.float64], rate: float, recommend_off: float) -> Consents:
        """``draws``: (5, members) uniforms; the same draws at a higher rate grant a superset."""
        granted = draws[:4] < rate
        return cls(granted[0], granted[1], granted[2], granted[3], draws[4] < recommend_off)


@dataclass(frozen=True)
class World:
    ids: I64  # member index -> user id
    book: Mapping[int, list[int]]  # owner -> members whose numbers are in the book (matched)
    holders: Mapping[int, list[int]]  # member -> owners of books holding the number
    following: Mapping[int, set[int]]
    fans: Mapping[int, set[int]]
    fof: Mapping[int, list[tuple[int, Reason]]]  # viewer -> the job's rows (user ids)

    # -- what the store holds ---------------------------------------------------------
    def contact_edges_of(self, uploader: int, consents: Consents) -> list[int]:
        """contact_edges rows uploader -> member (sync keeps only these)."""
        if not consents.contacts_upload[uploader]:
            return []
        return [c for c in self.book.get(uploader, []) if consents.discoverable_by_phone[c]]

    def contact_edges_to(self, member: int, consents: Consents) -> list[int]:
        """contact_edges rows uploader -> member, by uploader."""
        if not consents.discoverable_by_phone[member]:
            return []
        return [u for u in self.holders.get(member, []) if consents.contacts_upload[u]]

    # -- SuggestionService._sources, _excluded, _ranked -------------------------------
    def sources(
        self, viewer: int, consents: Consents, mix: Collection[Kind]
    ) -> Iterator[tuple[int, Reason]]:
        ids = self.ids
        if Kind.IN_YOUR_CONTACTS in mix and consents.contacts_upload[viewer]:
            for c in self.contact_edges_of(viewer, consents):
                if consents.discoverable_by_phone[c]:  # checked again on read, as there
                    yield int(ids[c]), Reason(Kind.IN_YOUR_CONTACTS)
        if Kind.HAS_YOU_IN_CONTACTS in mix and consents.suggest_from_others_contacts[viewer]:
            for u in self.contact_edges_to(viewer, consents):
                if consents.suggest_me_to_my_contacts[u]:
                    yield int(ids[u]), Reason(Kind.HAS_YOU_IN_CONTACTS)
        if Kind.FOLLOWS_YOU in mix:
            for u in sorted(self.fans.get(viewer, set())):
                yield int(ids[u]), Reason(Kind.FOLLOWS_YOU)
        if Kind.MUTUAL_CONNECTIONS in mix:
            yield from self.fof.get(viewer, [])

    def excluded(self, viewer: int, candidates: set[int], consents: Consents) -> set[int]:
        ids = self.ids
        out = {int(ids[viewer])} | {int(ids[f]) for f in self.following.get(viewer, set())}
        index = self.index
        out |= {c for c in candidates - out if consents.recommend_off[index[c]]}
        return out

    def ranked(
        self, viewer: int, consents: Consents, mix: Collection[Kind], weights: Weights
    ) -> list[Candidate]:
        candidates = gather(self.sources(viewer, consents, mix))
        return rank(candidates, self.excluded(viewer, set(candidates), consents), weights)

    @cached_property
    def index(self) -> dict[int, int]:
        """user id -> member index."""
        return {int(uid): i for i, uid in enumerate(self.ids)}
