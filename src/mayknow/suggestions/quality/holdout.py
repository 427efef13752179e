"""Hold out a share of a graph's edges, reproducibly, keeping every endpoint connected."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

Edge = tuple[int, int]


@dataclass(frozen=True)
class Split:
    """A training graph and the edges taken out of it (each as (a, b) with a < b)."""

    train: nx.Graph[int]
    held: tuple[Edge, ...]

    def targets(self) -> dict[int, set[int]]:
        """Each viewer that lost an edge -> its held-out neighbours (both ends are viewers)."""
        out: dict[int, set[int]] = {}
        for a, b in self.held:
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
        return out


def hold_out(graph: nx.Graph[int], fraction: float, seed: int) -> Split:
    """Take round(fraction * edges) edges out, in a seeded random order, skipping an edge
    when either endpoint would be left without any edge (so every endpoint keeps degree
    >= 1). On a graph with too few such edges, fewer are held out."""
    if not 0.0 < fraction < 1.0:
        raise ValueError("the held-out fraction is between 0 and 1")
    edges = sorted((min(a, b), max(a, b)) for a, b in graph.edges() if a != b)
    order = np.random.default_rng(seed).permutation(len(edges))
    wanted = round(fraction * len(edges))
    degree = dict(graph.degree())
    held: list[Edge] = []
    for i in order:
        if len(held) == wanted:
            break
        a, b = edges[int(i)]
        if degree[a] >= 2 and degree[b] >= 2:
            held.append((a, b))
            degree[a] -= 1
            degree[b] -= 1
    taken = set(held)
    train: nx.Graph[int] = nx.Graph()
    train.add_nodes_from(graph.nodes())
    train.add_edges_from(e for e in edges if e not in taken)
    return Split(train, tuple(sorted(held)))
