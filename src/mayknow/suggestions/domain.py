"""Sources, reasons and the transparent score of a suggestion. Pure: no framework.

A candidate's points are the sum of the weights of its reasons; friend-of-friend
candidates add their Adamic-Adar score times the mutual-connections weight. All integer,
ties broken by account id, so a list never reshuffles between identical requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

FIXED_POINT = 1_000_000_000  # the batch job's Adamic-Adar unit: round(1e9 / ln deg)


class Kind(StrEnum):
    IN_YOUR_CONTACTS = "in_your_contacts"
    HAS_YOU_IN_CONTACTS = "has_you_in_contacts"
    FOLLOWS_YOU = "follows_you"
    MUTUAL_FOLLOW = "mutual_follow"
    MUTUAL_CONNECTIONS = "mutual_connections"


@dataclass(frozen=True)
class Weights:
    """Points per reason; published on the "how suggestions work" page."""

    in_your_contacts: int = 100
    has_you_in_contacts: int = 80
    follows_you: int = 60
    mutual_connections: int = 20  # per unit of Adamic-Adar score

    def of(self, kind: Kind) -> int:
        return int(getattr(self, kind.value, 0))


@dataclass(frozen=True)
class Reason:
    kind: Kind
    count: int | None = None
    via: tuple[int, ...] = ()
    adamic_adar: int = 0  # fixed point, mutual_connections only


@dataclass
class Candidate:
    user_id: int
    reasons: list[Reason] = field(default_factory=list)

    def points(self, weights: Weights) -> int:
        total = 0
        for reason in self.reasons:
            if reason.kind is Kind.MUTUAL_CONNECTIONS:
                total += weights.mutual_connections * reason.adamic_adar * 1000 // FIXED_POINT
            else:
                total += weights.of(reason.kind) * 1000
        return total


REASON_ORDER = [
    Kind.IN_YOUR_CONTACTS,
    Kind.HAS_YOU_IN_CONTACTS,
    Kind.FOLLOWS_YOU,
    Kind.MUTUAL_FOLLOW,
    Kind.MUTUAL_CONNECTIONS,
]


def gather(sources: Iterable[tuple[int, Reason]]) -> dict[int, Candidate]:
    candidates: dict[int, Candidate] = {}
    for user_id, reason in sources:
        candidates.setdefault(user_id, Candidate(user_id)).reasons.append(reason)
    for candidate in candidates.values():
        candidate.reasons.sort(key=lambda r: REASON_ORDER.index(r.kind))
    return candidates


def rank(
    candidates: Mapping[int, Candidate], excluded: set[int], weights: Weights
) -> list[Candidate]:
    """Drop the excluded, then order by points (desc) and account id (asc)."""
    kept = [c for uid, c in candidates.items() if uid not in excluded]
    return sorted(kept, key=lambda c: (-c.points(weights), c.user_id))
