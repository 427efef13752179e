"""Newcomers on a synthetic population: which of their acquaintances reach their top 20?

A newcomer is a member who just joined: their address book is there (sampled from the
latent acquaintance graph, with non-members and service numbers), but of the follows
the generator gave them, each pair survives only with probability ``keep_follows``
(both directions together, so a mutual follow stays mutual). Every other member keeps
their follows. The friend-of-friend job then runs over all follows, as in production.

For each consent rate r, each member grants each of the four contact purposes with
probability r (one uniform draw per member and purpose, so a higher rate grants a
superset) and a fixed share turns recommend_me_to_others off. For each mix of sources,
every newcomer's list is ranked by ``World.ranked`` (the service's rules and the
domain's ranking) and its first 20 are compared with the newcomer's acquaintances.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from bench.population import Population
from bench.population.load import contact_edges
from bench.quality.world import I64, Consents, World
from mayknow import bootstrap, config
from mayknow.suggestions.batch import compute_to
from mayknow.suggestions.domain import Kind, Reason

TOP = 20
MIXES: tuple[tuple[str, frozenset[Kind]], ...] = (
    ("address book only (in_your_contacts)", frozenset({Kind.IN_YOUR_CONTACTS})),
    ("+ has_you_in_contacts", frozenset({Kind.IN_YOUR_CONTACTS, Kind.HAS_YOU_IN_CONTACTS})),
    (
        "+ follows_you",
        frozenset({Kind.IN_YOUR_CONTACTS, Kind.HAS_YOU_IN_CONTACTS, Kind.FOLLOWS_YOU}),
    ),
    ("+ mutual_connections (as served)", frozenset(Kind)),
)


@dataclass(frozen=True)
class StudyParams:
    newcomers: int = 1000
    keep_follows: float = 0.1
    rates: tuple[float, ...] = (0.3, 0.6, 0.9)
    recommend_off: float = 0.05
    seed: int = 7


@dataclass(frozen=True)
class Row:
    mix: str
    rate: float
    known: float  # mean acquaintances in the top 20, per newcomer
    strangers: float  # mean non-acquaintances in the top 20
    shown: float  # mean length of the list (at most 20)
    reached: float  # share of newcomers with at least one acquaintance in the top 20


@dataclass(frozen=True)
class Study:
    users: int
    newcomers: int
    follows_kept: float  # mean follows (out + in) a newcomer still has
    acquaintances: float  # mean acquaintances (members) per newcomer, not yet followed
    in_book: float  # mean acquaintances in the newcomer's own address book
    rows: list[Row]


def trim_newcomers(population: Population, p: StudyParams) -> tuple[I64, I64]:
    """Pick the newcomers; keep each of their follow pairs with probability keep_follows."""
    rng = np.random.default_rng(p.seed)
    n = population.ids.size
    newcomers = np.sort(rng.choice(n, size=min(p.newcomers, n), replace=False))
    follows = population.graph.follows
    new = np.zeros(n, dtype=bool)
    new[newcomers] = True
    touching = new[follows[:, 0]] | new[follows[:, 1]]
    pair = np.minimum(follows[:, 0], follows[:, 1]) * n + np.maximum(follows[:, 0], follows[:, 1])
    pairs, where = np.unique(pair[touching], return_inverse=True)
    kept = rng.random(pairs.size) < p.keep_follows
    keep = ~touching
    keep[np.flatnonzero(touching)] = kept[where]
    return newcomers, follows[keep]


def book_matches(population: Population) -> I64:
    """(owner, member) index pairs: every book number that is a member's, before consent."""
    users = population.users
    everyone = pa.array(np.ones(users.num_rows, dtype=bool))
    for purpose in ("contacts_upload", "discoverable_by_phone"):
        users = users.set_column(users.schema.get_field_index(purpose), purpose, everyone)
    view = Population(population.graph, users, population.books, population.shape)
    edges = contact_edges(view, "")
    ids = population.ids
    order = np.argsort(ids)
    to_index = {
        name: order[np.searchsorted(ids, edges.column(name).to_numpy(), sorter=order)]
        for name in ("uploader_id", "contact_id")
    }
    return np.stack([to_index["uploader_id"], to_index["contact_id"]], axis=1)


def job_reasons(ids: I64, follows: I64, viewers: set[int]) -> dict[int, list[tuple[int, Reason]]]:
    """The friend-of-friend job over every follow, as production runs it (DuckDB, the
    configured degree cap, top 20), rows of the viewers only."""
    index = {int(uid): i for i, uid in enumerate(ids)}
    with tempfile.TemporaryDirectory(prefix="mayknow-quality-") as tmp:
        folder = Path(tmp)
        table = pa.table({"follower_id": ids[follows[:, 0]], "followee_id": ids[follows[:, 1]]})
        pq.write_table(table, folder / "follows.parquet")
        cap = config.Settings().fof_degree_cap
        compute_to(folder / "out", [folder / "follows.parquet"], top_n=TOP, degree_cap=cap)
        rows = pads.dataset(folder / "out", format="parquet").to_table().to_pylist()
    out: dict[int, list[tuple[int, Reason]]] = defaultdict(list)
    for r in rows:
        viewer = index[r["viewer_id"]]
        if viewer in viewers:
            via = tuple(v for v in (r["via1"], r["via2"], r["via3"]) if v is not None)
            reason = Reason(Kind.MUTUAL_CONNECTIONS, r["mutual_count"], via, r["score"])
            out[viewer].append((r["candidate_id"], reason))
    return out


def build_world(population: Population, newcomers: I64, follows: I64) -> World:
    chosen = {int(v) for v in newcomers}
    book: dict[int, list[int]] = defaultdict(list)
    holders: dict[int, list[int]] = defaultdict(list)
    for owner, member in book_matches(population).tolist():
        if owner in chosen:
            book[owner].append(member)
        if member in chosen:
            holders[member].append(owner)
    following: dict[int, set[int]] = defaultdict(set)
    fans: dict[int, set[int]] = defaultdict(set)
    for a, b in follows.tolist():
        if a in chosen:
            following[a].add(b)
        if b in chosen:
            fans[b].add(a)
    fof = job_reasons(population.ids, follows, chosen)
    return World(population.ids, book, holders, following, fans, fof)


def acquaintances_of(population: Population, newcomers: I64) -> dict[int, set[int]]:
    chosen = {int(v) for v in newcomers}
    out: dict[int, set[int]] = {v: set() for v in chosen}
    for a, b in population.graph.acquaintances.tolist():
        if a in chosen:
            out[a].add(b)
        if b in chosen:
            out[b].add(a)
    return out


def study(population: Population, p: StudyParams) -> Study:
    newcomers, follows = trim_newcomers(population, p)
    world = build_world(population, newcomers, follows)
    known = acquaintances_of(population, newcomers)
    weights = bootstrap.weights(config.Settings())
    draws = np.random.default_rng(p.seed + 1).random((5, population.ids.size))
    rows = []
    for rate in p.rates:
        consents = Consents.at_rate(draws, rate, p.recommend_off)
        for name, mix in MIXES:
            lists = [
                [world.index[c.user_id] for c in world.ranked(v, consents, mix, weights)[:TOP]]
                for v in newcomers.tolist()
            ]
            rows.append(_row(name, rate, lists, [known[v] for v in newcomers.tolist()]))
    count = max(newcomers.size, 1)
    return Study(
        users=int(population.ids.size),
        newcomers=int(newcomers.size),
        follows_kept=sum(len(world.following[v]) + len(world.fans[v]) for v in newcomers.tolist())
        / count,
        acquaintances=sum(len(known[v] - world.following[v]) for v in newcomers.tolist()) / count,
        in_book=sum(len(set(world.book[v]) & known[v]) for v in newcomers.tolist()) / count,
        rows=rows,
    )


def _row(mix: str, rate: float, lists: Sequence[list[int]], known: Sequence[set[int]]) -> Row:
    count = max(len(lists), 1)
    hits = [len(set(shown) & k) for shown, k in zip(lists, known, strict=True)]
    return Row(
        mix=mix,
        rate=rate,
        known=sum(hits) / count,
        strangers=sum(len(s) - h for s, h in zip(lists, hits, strict=True)) / count,
        shown=sum(len(s) for s in lists) / count,
        reached=sum(h > 0 for h in hits) / count,
    )


def markdown(s: Study) -> str:
    head = (
        f"{s.newcomers} newcomers among {s.users:,} members; a newcomer has on average "
        f"{s.acquaintances:.1f} acquaintances who are members (not yet followed), "
        f"{s.in_book:.1f} of them in their own address book, and {s.follows_kept:.1f} "
        f"follows left (in or out).\n\n"
        f"| sources | consent rate | acquaintances in top {TOP} | strangers in top {TOP} "
        f"| list length | newcomers with >= 1 acquaintance |\n|---|---|---|---|---|---|"
    )
    lines = [
        f"| {r.mix} | {r.rate:.0%} | {r.known:.2f} | {r.strangers:.2f} | {r.shown:.2f} "
        f"| {r.reached:.1%} |"
        for r in s.rows
    ]
    return head + "\n" + "\n".join(lines) + "\n"


__all__ = ["MIXES", "Row", "Study", "StudyParams", "study"]
