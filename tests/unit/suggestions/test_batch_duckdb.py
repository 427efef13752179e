"""The friend-of-friend job on DuckDB, on small hand-made graphs with known answers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from mayknow.suggestions.batch import EngineOptions, compute_to
from mayknow.suggestions.batch.plan import cut, weight
from mayknow.suggestions.batch.sql import TopKey

Row = tuple[int, int, int, int, int | None, int | None, int | None]
OPTIONS = EngineOptions(threads=1, memory_limit="512MB")


def w(degree: int) -> int:
    return round(1e9 / math.log(degree))


def follows_file(
    folder: Path, mutual: Iterable[tuple[int, int]], one_way: Iterable[tuple[int, int]] = ()
) -> Path:
    pairs = [p for a, b in mutual for p in ((a, b), (b, a))] + list(one_way)
    path = folder / "follows.parquet"
    pq.write_table(
        pa.table(
            {
                "follower_id": pa.array([a for a, _ in pairs], pa.int64()),
                "followee_id": pa.array([b for _, b in pairs], pa.int64()),
            }
        ),
        path,
    )
    return path


def run(
    tmp_path: Path,
    mutual: Iterable[tuple[int, int]],
    one_way: Iterable[tuple[int, int]] = (),
    **kwargs: object,
) -> list[Row]:
    source = follows_file(tmp_path, mutual, one_way)
    out = tmp_path / "out"
    compute_to(out, [source], engine="duckdb", options=OPTIONS, **kwargs)  # type: ignore[arg-type]
    table = pads.dataset(out).to_table()
    rows = [tuple(r.values()) for r in table.to_pylist()]
    return sorted(rows, key=lambda r: (r[0], -r[2], r[1]))  # type: ignore[return-value]


def for_viewer(rows: list[Row], viewer: int) -> list[Row]:
    return [r for r in rows if r[0] == viewer]


TRIANGLE_AND_PATH = [(101, 102), (102, 103), (101, 103), (103, 104), (104, 105)]


def test_triangle_plus_path_scores_each_missing_link_by_its_intermediary(tmp_path: Path) -> None:
    rows = run(tmp_path, TRIANGLE_AND_PATH)
    assert rows == [
        (101, 104, w(3), 1, 103, None, None),
        (102, 104, w(3), 1, 103, None, None),
        (103, 105, w(2), 1, 104, None, None),
        (104, 101, w(3), 1, 103, None, None),
        (104, 102, w(3), 1, 103, None, None),
        (105, 103, w(2), 1, 104, None, None),
    ]


def test_one_way_follows_are_not_connections(tmp_path: Path) -> None:
    rows = run(tmp_path, [(101, 102), (102, 103)], one_way=[(101, 103), (104, 102)])
    assert {(r[0], r[1]) for r in rows} == {(101, 103), (103, 101)}


def test_duplicate_and_self_follows_are_ignored(tmp_path: Path) -> None:
    rows = run(tmp_path, [(101, 102), (102, 103), (101, 102)], one_way=[(101, 101)])
    assert rows == [(101, 103, w(2), 1, 102, None, None), (103, 101, w(2), 1, 102, None, None)]


def test_hub_above_the_cap_is_skipped_as_intermediary(tmp_path: Path) -> None:
    hub, friend = 900, 500
    fans = [101, 102, 103, 104]
    edges = [(hub, f) for f in fans] + [(101, friend), (102, friend)]
    rows = run(tmp_path, edges, degree_cap=3)
    assert for_viewer(rows, 101) == [(101, 102, w(2), 1, friend, None, None)]
    assert for_viewer(rows, 103) == []  # only reachable through the hub
    # the hub itself is still a viewer: its friends' friends count
    assert for_viewer(rows, hub) == [(hub, friend, 2 * w(2), 2, 101, 102, None)]


def test_ties_are_ordered_by_candidate_id_and_cut_at_top_n(tmp_path: Path) -> None:
    center, viewer = 500, 77
    others = [310, 120, 250, 999, 130]
    rows = run(tmp_path, [(center, o) for o in [viewer, *others]], top_n=3)
    assert [r[1] for r in for_viewer(rows, viewer)] == [120, 130, 250]
    assert {r[2] for r in for_viewer(rows, viewer)} == {w(6)}


def test_higher_score_beats_lower_id(tmp_path: Path) -> None:
    # 201 shares two friends with the viewer, 150 only one
    edges = [(1, 11), (1, 12), (11, 201), (12, 201), (11, 150)]
    rows = run(tmp_path, edges, top_n=1)
    assert for_viewer(rows, 1) == [(1, 201, w(3) + w(2), 2, 12, 11, None)]


def test_via_names_the_three_smallest_degree_connections_ties_by_id(tmp_path: Path) -> None:
    viewer, candidate = 1, 2
    shared = [40, 30, 20, 10]  # degrees 2 + extra leaves: 40 -> 2, 30 -> 4, 20 -> 3, 10 -> 3
    leaves = {40: 0, 30: 2, 20: 1, 10: 1}
    edges = [(viewer, s) for s in shared] + [(candidate, s) for s in shared]
    edges += [(s, 1000 + s * 10 + i) for s, n in leaves.items() for i in range(n)]
    rows = run(tmp_path, edges)
    (row,) = [r for r in for_viewer(rows, viewer) if r[1] == candidate]
    assert row == (viewer, candidate, w(2) + w(4) + w(3) + w(3), 4, 40, 10, 20)


def test_slice_computes_only_viewers_whose_id_falls_in_it(tmp_path: Path) -> None:
    rows = run(tmp_path, TRIANGLE_AND_PATH, slice_=(1, 2))
    assert {r[0] for r in rows} == {101, 103, 105}
    (tmp_path / "all").mkdir()
    everything = run(tmp_path / "all", TRIANGLE_AND_PATH)
    assert [r for r in everything if r[0] % 2 == 1] == rows


def test_empty_graph_gives_no_rows(tmp_path: Path) -> None:
    assert run(tmp_path, [], one_way=[(1, 2)]) == []


def test_batches_split_viewers_by_paths_and_keep_heavy_viewers_alone() -> None:
    import numpy as np

    batches = cut(np.array([0, 1, 2, 5, 9]), np.array([3, 3, 10, 1, 1]), per_batch=5)
    assert [(b.lo, b.hi, b.paths) for b in batches] == [(0, 2, 6), (2, 5, 10), (5, 10, 2)]
    assert sum(b.viewers for b in batches) == 5


def expected_top(graph: nx.Graph, viewer: int, top_n: int) -> list[tuple[int, int]]:
    """(candidate, fixed-point score) of the viewer's top_n, by brute force."""
    degree = dict(graph.degree())
    candidates = [c for c in graph.nodes if c != viewer and not graph.has_edge(viewer, c)]
    fixed = {
        c: sum(weight(degree[m]) for m in nx.common_neighbors(graph, viewer, c)) for c in candidates
    }
    ranked = sorted((c for c in candidates if fixed[c] > 0), key=lambda c: (-fixed[c], c))
    return [(c, fixed[c]) for c in ranked[:top_n]]


def test_scores_agree_with_networkx_adamic_adar_on_the_karate_club(tmp_path: Path) -> None:
    graph = nx.karate_club_graph()
    rows = run(tmp_path, graph.edges(), top_n=10)
    for viewer in graph.nodes:
        got = for_viewer(rows, viewer)
        assert [(r[1], r[2]) for r in got] == expected_top(graph, viewer, 10), viewer
        aa = {c: s for _, c, s in nx.adamic_adar_index(graph, [(viewer, r[1]) for r in got])}
        for _, c, score, count, *_ in got:
            assert score / 1e9 == pytest.approx(aa[c], abs=count * 1e-9)
            assert count == len(list(nx.common_neighbors(graph, viewer, c)))


def test_a_score_equal_to_the_viewers_floor_is_kept(tmp_path: Path) -> None:
    # Viewer 1 (degree 2) has neighbour 10 of degree 4 >= 2 + top_n: its floor is w(4),
    # reached exactly by 11, 12 and 13; 21 scores w(2) through 20.
    edges = [(1, 10), (10, 11), (10, 12), (10, 13), (1, 20), (20, 21)]
    rows = run(tmp_path, edges, top_n=2)
    assert [(r[1], r[2]) for r in for_viewer(rows, 1)] == [(21, w(2)), (11, w(4))]


@pytest.mark.parametrize("seed", range(6))
def test_top_n_matches_brute_force_on_random_graphs(tmp_path: Path, seed: int) -> None:
    # Dense enough that most viewers have a floor, small top_n so that it cuts often.
    graph = nx.gnm_random_graph(60, 240 + 40 * seed, seed=seed)
    hubs = nx.barabasi_albert_graph(60, 3, seed=seed)
    graph.add_edges_from(hubs.edges())
    rows = run(tmp_path, graph.edges(), top_n=3)
    for viewer in graph.nodes:
        got = [(r[1], r[2]) for r in for_viewer(rows, viewer)]
        assert got == expected_top(graph, viewer, 3), viewer


def test_the_top_key_is_a_bigint_while_every_score_fits_beside_the_candidate() -> None:
    # 1M users need 20 bits; a viewer of degree d scores at most d * w(2).
    assert TopKey.fitting(1_000_000, 4_078, weight(2)) == TopKey(20, "BIGINT")
    limit = (2**63 - 1) >> 20  # the largest score + 1 that still fits beside 20 bits
    largest_fitting_degree = (limit - 1) // weight(2)
    assert TopKey.fitting(2**20, largest_fitting_degree, weight(2)).sql_type == "BIGINT"
    assert TopKey.fitting(2**20, largest_fitting_degree + 1, weight(2)).sql_type == "HUGEINT"
    assert TopKey.fitting(2**20 + 1, largest_fitting_degree, weight(2)) == TopKey(21, "HUGEINT")


def test_a_hugeint_top_key_ranks_exactly_as_the_fitted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = nx.gnm_random_graph(80, 400, seed=7)
    graph.add_edges_from(nx.barabasi_albert_graph(80, 3, seed=7).edges())
    (tmp_path / "fitted").mkdir()
    (tmp_path / "wide").mkdir()
    fitted = run(tmp_path / "fitted", graph.edges(), top_n=4)
    monkeypatch.setattr(TopKey, "fitting", classmethod(lambda cls, *_: cls()))
    wide = run(tmp_path / "wide", graph.edges(), top_n=4)
    assert wide == fitted
    for viewer in graph.nodes:
        assert [(r[1], r[2]) for r in for_viewer(wide, viewer)] == expected_top(graph, viewer, 4)
