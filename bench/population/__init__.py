"""A deterministic synthetic population for mayknow's benchmarks and tests.

    python -m bench.population --users 1000000 --out bench/population/out/1m
    python -m bench.population --users 100000 --out DIR --load sqlite:///DIR/store.db

writes users.parquet, follows.parquet and address_books.parquet (and shape.json, with
the two-hop path count the suggestion job enumerates), and optionally loads a store.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.population.graph import Graph, GraphParams, Shape, generate, shape
from bench.population.people import PeopleParams, address_books, users_table

__all__ = ["Population", "build", "write"]


class Population:
    def __init__(self, graph: Graph, users: pa.Table, books: pa.Table, shape: Shape) -> None:
        self.graph, self.users, self.books, self.shape = graph, users, books, shape

    @property
    def ids(self) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
        return self.users.column("user_id").to_numpy()

    def follows(self) -> pa.Table:
        """follower_id, followee_id in the store's ids."""
        ids = self.ids
        return pa.table(
            {
                "follower_id": pa.array(ids[self.graph.follows[:, 0]]),
                "followee_id": pa.array(ids[self.graph.follows[:, 1]]),
            }
        )


def build(users: int, *, seed: int = 20190209, cap: int = 1000, books: bool = True) -> Population:
    graph = generate(GraphParams(users=users, seed=seed))
    rng = np.random.default_rng(seed + 1)
    people = PeopleParams()
    table = users_table(rng, people, graph)
    ids = table.column("user_id").to_numpy()
    book = address_books(rng, people, graph, ids) if books else pa.table({})
    return Population(graph, table, book, shape(graph.follows, users, cap))


def write(population: Population, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "users": out / "users.parquet",
        "follows": out / "follows.parquet",
        "address_books": out / "address_books.parquet",
    }
    pq.write_table(population.users, paths["users"])
    pq.write_table(population.follows(), paths["follows"])
    if population.books.num_columns:
        pq.write_table(population.books, paths["address_books"])
    (out / "shape.json").write_text(_json(asdict(population.shape)))
    return paths


def _json(data: dict[str, object]) -> str:
    import json

    return json.dumps(data, indent=2) + "\n"
