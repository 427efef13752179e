"""Quality of the suggestions: link prediction on real graphs, newcomers on a population.

    python -m bench.quality            # full run; appends a dated block to results.md
    python -m bench.quality --quick    # tiny sizes, seconds; prints, records nothing

1. Link prediction (``mayknow.suggestions.quality``, as ``mayknow eval``): Zachary's
   karate club and Les Misérables (networkx), and the mutual-follow graph of a small
   synthetic population; Recall@10 and MRR of the job, networkx's Adamic-Adar, random.
2. Newcomers (``bench.quality.newcomers``): on a larger population, acquaintances and
   strangers in a newcomer's top 20 for each mix of sources and each consent rate.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx
import numpy as np

from bench.population import Population, build
from bench.quality.newcomers import StudyParams, markdown, study
from mayknow import config
from mayknow.suggestions import quality

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"


def mutual_graph(population: Population) -> nx.Graph[int]:
    """The population's mutual follows as an undirected graph of member indices."""
    follows = population.graph.follows
    n = population.ids.size
    keys = follows[:, 0] * n + follows[:, 1]
    back = follows[:, 1] * n + follows[:, 0]
    mutual = follows[np.isin(back, keys) & (follows[:, 0] < follows[:, 1])]
    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(mutual.tolist())
    return graph


def link_prediction(args: argparse.Namespace, cap: int) -> tuple[str, str]:
    evaluations = [
        quality.evaluate(
            quality.real_graph(name),
            name=name,
            holdout=args.holdout,
            seed=args.seed,
            splits=args.splits,
            degree_cap=cap,
        )
        for name in quality.REAL_GRAPHS
    ]
    small = mutual_graph(build(args.lp_users, seed=args.seed + 1, books=False))
    small.remove_nodes_from([v for v, d in list(small.degree()) if d == 0])
    evaluations.append(
        quality.evaluate(
            quality.as_int_graph(small),
            name=f"population {args.lp_users:,}",
            holdout=args.holdout,
            seed=args.seed,
            splits=1,
            degree_cap=cap,
        )
    )
    clustering = {
        name: nx.average_clustering(quality.real_graph(name)) for name in quality.REAL_GRAPHS
    }
    clustering["population"] = nx.average_clustering(small)
    note = "Average clustering: " + ", ".join(f"{k} {v:.2f}" for k, v in clustering.items())
    return quality.markdown(evaluations), note


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, record nothing")
    parser.add_argument("--users", type=int, default=50_000, help="newcomer study population")
    parser.add_argument("--newcomers", type=int, default=2000)
    parser.add_argument("--keep-follows", type=float, default=0.1)
    parser.add_argument("--rates", default="0.3,0.6,0.9", help="consent rates, comma list")
    parser.add_argument("--recommend-off", type=float, default=0.05)
    parser.add_argument("--lp-users", type=int, default=10_000, help="link-prediction population")
    parser.add_argument("--splits", type=int, default=50, help="splits per real graph")
    parser.add_argument("--holdout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.newcomers, args.lp_users, args.splits = 1500, 60, 400, 2

    started = time.perf_counter()
    cap = config.Settings().fof_degree_cap
    table, note = link_prediction(args, cap)
    params = StudyParams(
        newcomers=args.newcomers,
        keep_follows=args.keep_follows,
        rates=tuple(float(r) for r in args.rates.split(",")),
        recommend_off=args.recommend_off,
        seed=args.seed + 7,
    )
    newcomers = markdown(study(build(args.users, seed=args.seed + 2), params))
    cpu = time.process_time()
    report = (
        f"### Link prediction\n\n{table}- {note}\n\n### Newcomers\n\n{newcomers}\n"
        f"{time.perf_counter() - started:.0f} s wall, {cpu:.0f} s CPU (this process).\n"
    )
    print(report)
    if not args.quick:
        _record(report, argv if argv is not None else sys.argv[1:], params)


def _record(report: str, argv: list[str], params: StudyParams) -> None:
    load = os.getloadavg()
    head = (
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — "
        f"`{' '.join(['python -m bench.quality', *argv])}`\n\n"
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, networkx "
        f"{nx.__version__}, load average at the end {load[0]:.1f}. Newcomer study: {params}.\n\n"
    )
    with RESULTS.open("a") as handle:
        handle.write(head + report)


if __name__ == "__main__":
    main()
