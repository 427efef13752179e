"""The friend-of-friend job, defined once: SQL that DuckDB and Spark SQL both run.

Inputs, registered by the engine runner:
  follows_raw(follower_id, followee_id)  every follow (the store's table, or a Parquet
                                     export of it); a mutual connection is a pair present
                                     both ways (duplicates and self-follows are ignored)
  weights(deg BIGINT, weight BIGINT) round(1e9 / ln(deg)) for 2 <= deg <= cap, computed
                                     once in Python and inlined as VALUES (WEIGHTS), so
                                     both engines add the same integers;
                                     an intermediary whose degree is not listed (a hub
                                     above the cap) contributes nothing

Steps, each materialised by the runner under its name:
  mutual   undirected mutual edges (a < b), original ids
  nodes    every member with a mutual connection: id, dense ix (in id order), deg, viewer
  edges    the mutual edges in dense ids
  adj      directed mutual edges in dense ids, both ways (v -> w)
  hop      second hops out of non-hub intermediaries: w -> c with w's weight and its
           "reason key" deg(w) * 2^32 + ix(w) (smaller = named first)
  vadj     adj restricted to the viewers of this run (all, or one slice), partitioned
           by viewer on Spark
  cost     per viewer, the two-hop paths it starts (sum of deg(w) over non-hub w), and
           its score floor (below)
then, per batch of viewers [lo, hi):
  paths    the batch's two-hop paths v - w - c (c != v), with w's weight and reason key
  scores   sum of weights per (viewer, candidate); candidates already connected to the
           viewer get -2^62 so that `score > 0` drops them without an anti-join;
           scores under the viewer's floor are dropped too, before the ranking
  top      the best TOP_N per viewer: score desc, candidate id asc   (dialect fragment)
  reasons  second pass over the paths of `top` pairs only: mutual_count, via1..3
                                                                     (dialect fragment)
and finally `output`, back in the store's ids.

The hints are comments to DuckDB, which plans its own joins. On Spark they keep every
path where it is born: `vadj` is hash-partitioned by viewer once; when `hop` is small
enough to send to every task (BROADCAST, decided per run: `broadcast_hop`), each batch's
paths come out of the join already partitioned by viewer, so neither the sum, nor the
top-N window, nor the join of the reasons (which broadcasts `top`) moves a path between
tasks. A `hop` too big to broadcast is joined by shuffling; then the REPARTITION hint of
`scores` shuffles the paths once, by viewer, for both the sum and the window (Spark drops
that hint when the paths are already partitioned so).

Dense ids are assigned in id order, so "candidate id asc" and "ix asc" agree.

The floor of a viewer v is a score that at least TOP_N of its candidates reach, known
before any path is summed, so that every score under it can be dropped without changing
the top TOP_N (ties included: a dropped score is strictly below TOP_N others). It is the
largest weight(w) over v's non-hub neighbours w with deg(w) >= deg(v) + TOP_N, else 0.
Why: w has deg(w) neighbours; at most deg(v) - 1 of them are v's neighbours (w is not its
own) and one is v, so at least deg(w) - deg(v) >= TOP_N of them are candidates of v, and
each one's score counts w, so is at least weight(w). Cheap (one pass over v's
neighbours, folded into `cost`), it drops about half the (viewer, candidate) rows on the
generated graphs before the top-N; Spark, which ranks by sorting, gains the most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Dialect = Literal["duckdb", "spark"]

# Spelled out in the SQL below: 2^32 = 4294967296 packs (deg, ix) into one sortable number
# (and (score, ix) by default: TopKey); -2^62 = -4611686018427387904 marks "already a
# mutual connection".
SHIFT = 4294967296
KNOWN = -4611686018427387904

WEIGHTS = """
SELECT CAST(deg AS BIGINT) AS deg, CAST(weight AS BIGINT) AS weight
FROM (VALUES {rows}) AS t(deg, weight)
WHERE deg >= 2
"""

FOLLOWS = """
SELECT CAST(follower_id AS BIGINT) AS src, CAST(followee_id AS BIGINT) AS dst
FROM follows_raw
"""

MUTUAL = """
SELECT least(src, dst) AS a, greatest(src, dst) AS b
FROM follows
WHERE src <> dst
GROUP BY least(src, dst), greatest(src, dst)
HAVING min(src) <> max(src)
"""

NODES = """
SELECT id, ix, deg, CASE WHEN {viewer} THEN 1 ELSE 0 END AS viewer
FROM (
  SELECT id, deg, row_number() OVER (ORDER BY id) - 1 AS ix
  FROM (
    SELECT id, count(*) AS deg
    FROM (SELECT a AS id FROM mutual UNION ALL SELECT b AS id FROM mutual) ends
    GROUP BY id
  ) d
) r
"""

EDGES = """
SELECT x.ix AS a, y.ix AS b
FROM mutual m JOIN nodes x ON x.id = m.a JOIN nodes y ON y.id = m.b
"""

ADJ = """
SELECT a AS v, b AS w FROM edges
UNION ALL
SELECT b AS v, a AS w FROM edges
"""

HOP = """
SELECT e.v AS w, e.w AS c, t.weight AS weight, n.deg * 4294967296 + n.ix AS wkey
FROM adj e JOIN nodes n ON n.ix = e.v JOIN weights t ON t.deg = n.deg
"""

VADJ = """
SELECT /*+ REPARTITION(v) */ e.v AS v, e.w AS w
FROM adj e JOIN nodes n ON n.ix = e.v
WHERE n.viewer = 1
"""

COST = """
SELECT e.v AS v, sum(n.deg) AS paths,
       max(CASE WHEN n.deg >= vn.deg + {n} THEN t.weight ELSE 0 END) AS floor
FROM vadj e JOIN nodes n ON n.ix = e.w JOIN weights t ON t.deg = n.deg
JOIN nodes vn ON vn.ix = e.v
GROUP BY e.v
"""

PATHS = """
SELECT {broadcast}e.v AS v, h.c AS c, h.weight AS weight, h.wkey AS wkey
FROM vadj e JOIN hop h ON h.w = e.w
WHERE e.v >= {lo} AND e.v < {hi} AND h.c <> e.v
"""

SCORES = """
SELECT /*+ BROADCAST(f) */ s.v AS v, s.c AS c, s.score AS score
FROM (
  SELECT v, c, CAST(sum(weight) AS BIGINT) AS score
  FROM (
    SELECT /*+ REPARTITION(v) */ v, c, weight
    FROM (
      SELECT v, c, weight FROM paths
      UNION ALL
      SELECT v, w AS c, CAST(-4611686018427387904 AS BIGINT) AS weight
      FROM vadj
      WHERE v >= {lo} AND v < {hi}
    ) u
  ) p
  GROUP BY v, c
) s
JOIN (SELECT v, floor FROM cost WHERE v >= {lo} AND v < {hi}) f ON f.v = s.v
WHERE s.score > 0 AND s.score >= f.floor
"""

MATCHES = """
SELECT /*+ BROADCAST(t) */ t.v AS v, t.c AS c, t.score AS score, p.wkey AS wkey
FROM top t JOIN paths p ON p.v = t.v AND p.c = t.c
"""

OUTPUT = """
SELECT vn.id AS viewer_id, cn.id AS candidate_id, r.score AS score,
       r.mutual_count AS mutual_count, n1.id AS via1, n2.id AS via2, n3.id AS via3
FROM result r
JOIN nodes vn ON vn.ix = r.v
JOIN nodes cn ON cn.ix = r.c
LEFT JOIN nodes n1 ON n1.ix = r.via1
LEFT JOIN nodes n2 ON n2.ix = r.via2
LEFT JOIN nodes n3 ON n3.ix = r.via3
ORDER BY viewer_id, candidate_id
"""

# ---- the dialect fragment: top-N per group, the one place the engines differ ---------
# DuckDB: max(key, n) keeps the n largest packed keys per viewer (2x faster than a
# row_number window), key = score * 2^bits + (2^bits - 1 - c) (see TopKey);
# min(wkey, 3) keeps the three smallest reason keys per pair.
# Spark SQL has neither, so it ranks with row_number (Spark prunes such windows early).
TOP: dict[Dialect, str] = {
    "duckdb": """
SELECT v, {mask} - CAST(k % {shift} AS BIGINT) AS c, CAST(k // {shift} AS BIGINT) AS score
FROM (
  SELECT v, unnest(max(CAST(score AS {key}) * {shift} + ({mask} - c), {n})) AS k
  FROM scores GROUP BY v
) s
""",
    "spark": """
SELECT v, c, score
FROM (
  SELECT v, c, score, row_number() OVER (PARTITION BY v ORDER BY score DESC, c ASC) AS rk
  FROM scores
) s
WHERE rk <= {n}
""",
}

REASONS: dict[Dialect, str] = {
    "duckdb": """
SELECT v, c, score, mutual_count,
       k[1] % 4294967296 AS via1, k[2] % 4294967296 AS via2, k[3] % 4294967296 AS via3
FROM (
  SELECT v, c, score, count(*) AS mutual_count, min(wkey, 3) AS k
  FROM matches GROUP BY v, c, score
) g
""",
    "spark": """
SELECT v, c, score, count(*) AS mutual_count,
       max(CASE WHEN rk = 1 THEN wkey % 4294967296 END) AS via1,
       max(CASE WHEN rk = 2 THEN wkey % 4294967296 END) AS via2,
       max(CASE WHEN rk = 3 THEN wkey % 4294967296 END) AS via3
FROM (
  SELECT v, c, score, wkey, row_number() OVER (PARTITION BY v, c ORDER BY wkey) AS rk
  FROM matches
) m
GROUP BY v, c, score
""",
}


@dataclass(frozen=True)
class TopKey:
    """How DuckDB packs (score, candidate) into one number for its top-N: the candidate's
    dense id in the low `bits`, reversed so that ties go to the smaller id. A BIGINT when
    every score fits above those bits, else a HUGEINT, whose max(key, n) costs about
    twice as much (bench/suggestions/results.md, 2026-11-27). The default fits any run."""

    bits: int = 32
    sql_type: Literal["BIGINT", "HUGEINT"] = "HUGEINT"

    @classmethod
    def fitting(cls, users: int, max_degree: int, max_weight: int) -> TopKey:
        """The narrowest key for `users` dense ids (0 .. users - 1), when no score can
        exceed max_degree * max_weight (a viewer's score sums at most one weight per
        neighbour)."""
        bits = max(users - 1, 1).bit_length()
        largest = (max(max_degree, 0) * max(max_weight, 0) + 1) << bits
        return cls(bits, "BIGINT" if largest <= 2**63 - 1 else "HUGEINT")

    def fragment(self, dialect: Dialect, top_n: int) -> str:
        """The dialect's top-N step; Spark's ranks by row_number and uses no key."""
        shift = 1 << self.bits
        return TOP[dialect].format(n=int(top_n), shift=shift, mask=shift - 1, key=self.sql_type)


def viewer_predicate(slice_: tuple[int, int] | None) -> str:
    """Which members are viewers: all, or slice k of n (id % n = k)."""
    if slice_ is None:
        return "1 = 1"
    k, n = slice_
    if not (isinstance(k, int) and isinstance(n, int) and 0 <= k < n):
        raise ValueError("a slice is (k, n) with 0 <= k < n")
    return f"id % {n} = {k}"


@dataclass(frozen=True)
class Step:
    """One named SELECT. kind: "table" (materialised), "view" (inlined where used),
    "reused" (read twice: materialised where that is cheap, DuckDB; a view on Spark) or
    "append" (rows added to the table `name`); order: a hint for the physical order."""

    name: str
    sql: str
    kind: Literal["table", "view", "reused", "append"] = "table"
    order: str | None = None


def prepare_steps(slice_: tuple[int, int] | None, top_n: int) -> list[Step]:
    """The steps before the batches, in order."""
    return [
        Step("follows", FOLLOWS, kind="view"),
        Step("mutual", MUTUAL),
        Step("nodes", NODES.format(viewer=viewer_predicate(slice_)), order="ix"),
        Step("edges", EDGES),
        Step("adj", ADJ, order="v, w"),
        Step("hop", HOP, order="w, c"),
        Step("vadj", VADJ, order="v, w"),
        Step("cost", COST.format(n=int(top_n)), order="v"),
    ]


def batch_steps(
    dialect: Dialect,
    lo: int,
    hi: int,
    top_n: int,
    broadcast_hop: bool = False,
    key: TopKey = TopKey(),
) -> list[Step]:
    """The steps of one batch of viewers [lo, hi); its rows are appended to `result`."""
    broadcast = "/*+ BROADCAST(h) */ " if broadcast_hop else ""
    return [
        Step("paths", PATHS.format(lo=lo, hi=hi, broadcast=broadcast), kind="reused"),
        Step("scores", SCORES.format(lo=lo, hi=hi), kind="view"),
        Step("top", key.fragment(dialect, top_n)),
        Step("matches", MATCHES, kind="view"),
        Step("result", REASONS[dialect], kind="append"),
    ]
