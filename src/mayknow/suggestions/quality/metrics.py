"""Recall@k and mean reciprocal rank of held-out neighbours in ranked candidate lists.

A *pair* is (viewer, held-out neighbour): a held-out edge {a, b} gives two pairs, (a, b)
and (b, a), since each end should get the other suggested. A ranking is a viewer's
candidate list, best first, at most DEPTH long (the other held-out neighbours stay in it:
ranks are raw, not filtered).

  Recall@k = (pairs whose neighbour is among the viewer's first k) / pairs
  MRR      = mean over pairs of 1 / rank (rank counted from 1 in the viewer's list),
             0 for a neighbour not in the first DEPTH
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEPTH = 100
K = 10

Rankings = Mapping[int, Sequence[int]]  # viewer -> candidates, best first


@dataclass(frozen=True)
class Tally:
    """Sums over pairs, so that several splits add up before dividing."""

    pairs: int = 0
    hits: int = 0  # pairs found in the first K
    reciprocal: float = 0.0  # sum of 1 / rank

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.pairs + other.pairs, self.hits + other.hits, self.reciprocal + other.reciprocal
        )

    @property
    def recall(self) -> float:
        return self.hits / self.pairs if self.pairs else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal / self.pairs if self.pairs else 0.0


def reciprocal_rank(ranking: Sequence[int], target: int, depth: int = DEPTH) -> float:
    """1 / rank of ``target`` in the first ``depth`` of ``ranking``; 0 if it is not there."""
    for rank, candidate in enumerate(ranking[:depth], start=1):
        if candidate == target:
            return 1.0 / rank
    return 0.0


def tally(
    rankings: Rankings, targets: Mapping[int, set[int]], k: int = K, depth: int = DEPTH
) -> Tally:
    """Count every (viewer, held-out neighbour) pair against the viewer's ranking."""
    pairs = hits = 0
    reciprocal = 0.0
    for viewer, wanted in targets.items():
        ranking = list(rankings.get(viewer, ()))[:depth]
        top = set(ranking[:k])
        for target in wanted:
            pairs += 1
            hits += target in top
            reciprocal += reciprocal_rank(ranking, target, depth)
    return Tally(pairs, hits, reciprocal)
