"""Link-prediction evaluation: metrics with known answers, the job against networkx."""

from __future__ import annotations

import networkx as nx
import pytest

from mayknow.suggestions.quality import Split, evaluate, hold_out, real_graph, tally
from mayknow.suggestions.quality.evaluate import JOB, NETWORKX, RANDOM
from mayknow.suggestions.quality.metrics import reciprocal_rank
from mayknow.suggestions.quality.rankers import (
    adamic_adar_rankings,
    job_rankings,
    random_rankings,
)


def small_split() -> Split:
    """Viewer 0 knows 1 and 2; 3 is a friend of both, 4 and 5 of one each; {0, 4} is held
    out. Every intermediary has degree 3, so 3 scores 2/ln 3 and 4, 5 score 1/ln 3."""
    train: nx.Graph[int] = nx.Graph([(0, 1), (0, 2), (1, 3), (2, 3), (1, 4), (2, 5)])
    return Split(train, ((0, 4),))


def test_ranks_of_a_hand_made_graph_give_the_known_recall_and_mrr() -> None:
    split = small_split()
    targets = split.targets()
    assert targets == {0: {4}, 4: {0}}
    for rankings in (
        job_rankings(split.train, targets, degree_cap=1000),
        adamic_adar_rankings(split.train, targets),
    ):
        assert rankings[0] == [3, 4, 5]  # 4 and 5 tie: by id
        assert rankings[4] == [0, 3]  # both via 1 alone: by id
        at_10 = tally(rankings, targets)
        assert (at_10.pairs, at_10.hits) == (2, 2)
        assert at_10.mrr == pytest.approx((1 / 2 + 1 / 1) / 2)
        assert tally(rankings, targets, k=1).recall == pytest.approx(0.5)


def test_a_neighbour_missing_or_beyond_the_depth_counts_zero() -> None:
    rankings = {1: [5, 6, 7], 2: []}
    result = tally(rankings, {1: {7, 9}, 2: {1}}, k=2)
    assert (result.pairs, result.hits) == (3, 0)
    assert result.mrr == pytest.approx((1 / 3) / 3)
    assert reciprocal_rank([5, 6, 7], 7, depth=2) == 0.0
    assert tally({}, {}).recall == 0.0


def test_hold_out_is_reproducible_and_leaves_every_endpoint_an_edge() -> None:
    karate = real_graph("karate")
    split = hold_out(karate, 0.1, seed=11)
    assert split.held == hold_out(karate, 0.1, seed=11).held
    assert split.held != hold_out(karate, 0.1, seed=12).held
    assert len(split.held) == round(0.1 * karate.number_of_edges())
    assert split.train.number_of_edges() == karate.number_of_edges() - len(split.held)
    for a, b in split.held:
        assert karate.has_edge(a, b)
        assert not split.train.has_edge(a, b)
        assert split.train.degree(a) >= 1
        assert split.train.degree(b) >= 1


def test_a_star_keeps_its_leaves_so_nothing_can_be_held_out() -> None:
    star: nx.Graph[int] = nx.star_graph(5)
    assert hold_out(star, 0.5, seed=1).held == ()


def test_the_job_ranks_the_karate_club_exactly_as_networkx_adamic_adar() -> None:
    split = hold_out(real_graph("karate"), 0.1, seed=3)
    viewers = set(split.train.nodes())
    job = job_rankings(split.train, viewers, degree_cap=1000)
    reference = adamic_adar_rankings(split.train, viewers)
    assert sum(len(r) for r in reference.values()) > 200  # not vacuous
    assert job == reference


def test_random_ranks_non_neighbours_only_and_is_seeded() -> None:
    train = small_split().train
    ranked = random_rankings(train, [0], seed=5)
    assert sorted(ranked[0]) == [3, 4, 5]
    assert ranked == random_rankings(train, [0], seed=5)


def test_the_job_beats_random_on_the_karate_club() -> None:
    result = evaluate(real_graph("karate"), name="karate", holdout=0.1, seed=0, splits=4)
    job, networkx, rand = (result.tallies[m] for m in (JOB, NETWORKX, RANDOM))
    assert job.pairs == rand.pairs > 0
    assert job.recall > rand.recall
    assert job.mrr > rand.mrr
    assert (job.recall, job.mrr) == (networkx.recall, networkx.mrr)
    assert result.agreement == 1.0


def test_les_miserables_is_relabelled_to_integers_in_name_order() -> None:
    graph = real_graph("lesmis")
    assert sorted(graph.nodes()) == list(range(77))
    assert graph.number_of_edges() == 254
