"""Link prediction on a graph: hold edges out, rank, count how many come back.

For each split (seed, seed + 1, ...) a share of the edges is held out (``hold_out``), the
three rankers rank candidates for every viewer that lost an edge, and the pairs are
tallied (``metrics``); tallies add up over the splits before dividing, so every held-out
pair weighs the same. ``agreement`` is the share of viewers whose first 10 candidates are
the same, in the same order, from the job and from networkx.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx

from mayknow.suggestions.batch import EngineOptions
from mayknow.suggestions.quality.holdout import hold_out
from mayknow.suggestions.quality.metrics import DEPTH, K, Tally, tally
from mayknow.suggestions.quality.rankers import (
    adamic_adar_rankings,
    job_rankings,
    random_rankings,
)

JOB = "mayknow job (DuckDB)"
NETWORKX = "networkx adamic_adar_index"
RANDOM = "random non-neighbour"
METHODS = (JOB, NETWORKX, RANDOM)


def _karate() -> nx.Graph[int]:
    graph: nx.Graph[int] = nx.karate_club_graph()
    return graph


def _lesmis() -> nx.Graph[int]:
    graph: nx.Graph[int] = nx.les_miserables_graph()
    return graph


REAL_GRAPHS: dict[str, tuple[str, Callable[[], nx.Graph[int]]]] = {
    "karate": ("Zachary's karate club", _karate),
    "lesmis": ("Les Misérables co-appearances", _lesmis),
}


def as_int_graph(graph: nx.Graph[int]) -> nx.Graph[int]:
    """Unweighted, without self-loops, nodes relabelled 0..n-1 in sorted label order."""
    labels = {label: i for i, label in enumerate(sorted(graph.nodes(), key=str))}
    if all(isinstance(label, int) for label in labels):
        labels = {label: i for i, label in enumerate(sorted(graph.nodes()))}
    out: nx.Graph[int] = nx.Graph()
    out.add_nodes_from(labels.values())
    out.add_edges_from((labels[a], labels[b]) for a, b in graph.edges() if a != b)
    return out


def real_graph(name: str) -> nx.Graph[int]:
    """One of the social graphs that ship inside networkx, by short name."""
    if name not in REAL_GRAPHS:
        raise ValueError(f"unknown graph {name!r}: one of {', '.join(REAL_GRAPHS)}")
    return as_int_graph(REAL_GRAPHS[name][1]())


@dataclass
class Evaluation:
    graph: str
    nodes: int
    edges: int
    holdout: float
    splits: int
    degree_cap: int
    held: int = 0  # edges held out, over all splits
    tallies: dict[str, Tally] = field(default_factory=lambda: {m: Tally() for m in METHODS})
    viewers: int = 0  # viewer-splits
    same_top: int = 0  # viewer-splits whose job and networkx top-10 are identical

    @property
    def agreement(self) -> float:
        return self.same_top / self.viewers if self.viewers else 0.0


def evaluate(
    graph: nx.Graph[int],
    *,
    name: str,
    holdout: float = 0.1,
    seed: int = 0,
    splits: int = 1,
    degree_cap: int = 1000,
    options: EngineOptions | None = None,
) -> Evaluation:
    """Recall@10 and MRR of the job, networkx and random over ``splits`` seeded splits."""
    result = Evaluation(
        name, graph.number_of_nodes(), graph.number_of_edges(), holdout, splits, degree_cap
    )
    for split_seed in range(seed, seed + splits):
        split = hold_out(graph, holdout, split_seed)
        targets = split.targets()
        ranked = {
            JOB: job_rankings(split.train, targets, degree_cap=degree_cap, options=options),
            NETWORKX: adamic_adar_rankings(split.train, targets),
            RANDOM: random_rankings(split.train, targets, seed=split_seed),
        }
        for method, rankings in ranked.items():
            result.tallies[method] += tally(rankings, targets)
        result.held += len(split.held)
        result.viewers += len(targets)
        result.same_top += sum(ranked[JOB][v][:K] == ranked[NETWORKX][v][:K] for v in targets)
    return result


def markdown(evaluations: Iterable[Evaluation]) -> str:
    """One Markdown table: a row per graph and method."""
    lines = [
        f"| graph | nodes | edges | held out | method | Recall@{K} | MRR (top {DEPTH}) |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for ev in evaluations:
        held = f"{ev.holdout:.0%} x {ev.splits} splits = {ev.held} edges"
        for method, scores in ev.tallies.items():
            lines.append(
                f"| {ev.graph} | {ev.nodes} | {ev.edges} | {held} | {method} "
                f"| {scores.recall:.3f} | {scores.mrr:.3f} |"
            )
        notes.append(
            f"{ev.graph}: {ev.tallies[JOB].pairs} (viewer, held-out neighbour) pairs; the job's "
            f"top {K} equals networkx's for {ev.agreement:.1%} of {ev.viewers} viewers "
            f"(degree cap {ev.degree_cap})."
        )
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
