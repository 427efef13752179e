"""Three ways to rank candidates for a viewer of an undirected graph, best first.

- ``job_rankings``: mayknow's friend-of-friend batch job exactly as production runs it
  (``compute_to`` on DuckDB: mutual follows in, fixed-point Adamic-Adar over
  intermediaries of degree <= the cap, top-N per viewer, ties by id). The graph goes in
  as follows both ways, so every edge is a mutual connection.
- ``adamic_adar_rankings``: networkx's ``adamic_adar_index`` over every non-neighbour at
  distance 2 (no degree cap), by score desc then id asc. Scores are compared at 1e-9:
  networkx adds floats in set order, so two equal sums can differ in the last bit.
- ``random_rankings``: a seeded random order of all non-neighbours.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from mayknow.suggestions.batch import EngineOptions, compute_to
from mayknow.suggestions.quality.metrics import DEPTH

Ranking = list[int]


def follows_table(graph: nx.Graph[int]) -> pa.Table:
    """Every edge as two follows (follower_id, followee_id): a mutual connection."""
    pairs = [(a, b) for a, b in graph.edges() if a != b]
    followers = [a for a, b in pairs] + [b for a, b in pairs]
    followees = [b for a, b in pairs] + [a for a, b in pairs]
    return pa.table(
        {
            "follower_id": pa.array(followers, pa.int64()),
            "followee_id": pa.array(followees, pa.int64()),
        }
    )


def job_rows(
    follows: pa.Table,
    *,
    degree_cap: int,
    top_n: int = DEPTH,
    options: EngineOptions | None = None,
) -> pa.Table:
    """The job's output rows (viewer_id, candidate_id, score, mutual_count, via1..3) for
    these follows, run on DuckDB in a private temporary folder."""
    with tempfile.TemporaryDirectory(prefix="mayknow-eval-") as tmp:
        folder = Path(tmp)
        pq.write_table(follows, folder / "follows.parquet")
        compute_to(
            folder / "out",
            [folder / "follows.parquet"],
            engine="duckdb",
            top_n=top_n,
            degree_cap=degree_cap,
            options=options or EngineOptions(threads=1, memory_limit="1GB"),
        )
        table = pads.dataset(folder / "out", format="parquet").to_table()
    return table.sort_by(
        [("viewer_id", "ascending"), ("score", "descending"), ("candidate_id", "ascending")]
    )


def job_rankings(
    graph: nx.Graph[int],
    viewers: Iterable[int],
    *,
    degree_cap: int,
    depth: int = DEPTH,
    options: EngineOptions | None = None,
) -> dict[int, Ranking]:
    rows = job_rows(follows_table(graph), degree_cap=degree_cap, top_n=depth, options=options)
    wanted = set(viewers)
    out: dict[int, Ranking] = {v: [] for v in wanted}
    columns = rows.select(["viewer_id", "candidate_id"]).to_pydict()
    for viewer, candidate in zip(columns["viewer_id"], columns["candidate_id"], strict=True):
        if viewer in wanted:
            out[viewer].append(candidate)
    return out


def second_neighbours(graph: nx.Graph[int], viewer: int) -> set[int]:
    """Nodes at distance exactly 2."""
    near = set(graph[viewer])
    return {c for w in near for c in graph[w]} - near - {viewer}


def adamic_adar_rankings(
    graph: nx.Graph[int], viewers: Iterable[int], depth: int = DEPTH
) -> dict[int, Ranking]:
    out: dict[int, Ranking] = {}
    for viewer in sorted(set(viewers)):
        pairs = [(viewer, c) for c in sorted(second_neighbours(graph, viewer))]
        scored = nx.adamic_adar_index(graph, pairs)
        ordered = sorted(scored, key=lambda t: (-round(t[2], 9), t[1]))
        out[viewer] = [c for _, c, _ in ordered[:depth]]
    return out


def random_rankings(
    graph: nx.Graph[int], viewers: Iterable[int], seed: int, depth: int = DEPTH
) -> dict[int, Ranking]:
    rng = np.random.default_rng(seed)
    nodes = sorted(graph.nodes())
    out: dict[int, Ranking] = {}
    for viewer in sorted(set(viewers)):
        near = set(graph[viewer]) | {viewer}
        pool = [n for n in nodes if n not in near]
        order = rng.permutation(len(pool))[:depth]
        out[viewer] = [pool[int(i)] for i in order]
    return out
