"""The job's rivals: one plain DuckDB query, a SciPy sparse-matrix product and plain
networkx, same answer; and DuckDB's bare aggregation of the job's paths, no answer at all,
the ceiling of any job that sums every path once.

All compute, per viewer, the top-N candidates by the fixed-point Adamic-Adar score
(sum of round(1e9 / ln deg(w)) over mutual connections w with 2 <= deg(w) <= cap),
excluding the viewer and its mutual connections, ties by candidate id. The plain query
also names the reasons (mutual_count, via1..3) as the job does, so its rows must equal
the job's in every column; SciPy and networkx name none: they are the baseline for the
scoring, the expensive part.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import scipy.sparse as sp

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Mutual:
    ids: I64  # original id of each dense index, ascending
    src: I64  # directed mutual edges (both ways), dense
    dst: I64

    @property
    def n(self) -> int:
        return int(self.ids.size)


def mutual_edges(follows: pa.Table) -> Mutual:
    a = follows.column("follower_id").to_numpy()
    b = follows.column("followee_id").to_numpy()
    keep = a != b
    a, b = a[keep], b[keep]
    ids, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    n = ids.size
    src, dst = inverse[: a.size].astype(np.int64), inverse[a.size :].astype(np.int64)
    forward = np.unique(src * n + dst)
    backward = np.unique(dst * n + src)
    both = np.intersect1d(forward, backward, assume_unique=True)
    used = np.unique(np.concatenate([both // n, both % n]))
    remap = np.full(n, -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    return Mutual(ids[used], remap[both // n], remap[both % n])


# The calibration baseline, "a straightforward hand-written DuckDB query": every
# viewer at once, one GROUP BY over all two-hop paths (score and count), an anti-join for
# existing connections, a row_number window for the top-N, then the reasons of the top
# pairs (in the same GROUP BY, the lists of reason keys do not fit 3 GB at 100k users).
# None of the job's devices: dense ids, batches of viewers, a floor, max(key, n).
PLAIN_SQL = [
    """CREATE TABLE m AS
    WITH f AS (
      SELECT DISTINCT CAST(follower_id AS BIGINT) AS s, CAST(followee_id AS BIGINT) AS d
      FROM read_parquet({source}) WHERE follower_id <> followee_id
    )
    SELECT f.s AS v, f.d AS w FROM f JOIN f r ON r.s = f.d AND r.d = f.s""",
    """CREATE TABLE hop AS
    SELECT m.v AS w, m.w AS c, t.weight AS weight, d.deg AS deg
    FROM m JOIN (SELECT v, count(*) AS deg FROM m GROUP BY v) d ON d.v = m.v
    JOIN (VALUES {weights}) AS t(deg, weight) ON t.deg = d.deg""",
    """CREATE TABLE top AS
    SELECT v, c, score, mutual_count
    FROM (
      SELECT *, row_number() OVER (PARTITION BY v ORDER BY score DESC, c) AS rk
      FROM (
        SELECT a.v AS v, h.c AS c, sum(h.weight) AS score, count(*) AS mutual_count
        FROM m a JOIN hop h ON h.w = a.w
        WHERE h.c <> a.v AND NOT EXISTS (SELECT 1 FROM m k WHERE k.v = a.v AND k.w = h.c)
        GROUP BY a.v, h.c
      ) pairs
    ) ranked
    WHERE rk <= {top_n}""",
    """COPY (
    SELECT v AS viewer_id, c AS candidate_id, CAST(score AS BIGINT) AS score,
           mutual_count, k[1] AS via1, k[2] AS via2, k[3] AS via3
    FROM (
      SELECT t.v, t.c, t.score, t.mutual_count, list(h.w ORDER BY h.deg, h.w) AS k
      FROM top t JOIN m a ON a.v = t.v JOIN hop h ON h.w = a.w AND h.c = t.c
      GROUP BY t.v, t.c, t.score, t.mutual_count
    ) named
    ) TO {target} (FORMAT parquet)""",
]


def duckdb_plain(
    follows: Path,
    out: Path,
    *,
    threads: int,
    memory_limit: str,
    top_n: int = 20,
    cap: int = 1000,
) -> float:
    """Run PLAIN_SQL on DuckDB into out/part-0.parquet; the seconds it took."""
    import duckdb

    spill = spill_folder(out)
    shutil.rmtree(spill, ignore_errors=True)  # what an interrupted run left
    spill.mkdir(parents=True)
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "threads": threads,
        "memory_limit": memory_limit,
        "temp_directory": str(spill),
        "preserve_insertion_order": False,  # the first advice of DuckDB's out-of-memory error
    }
    degrees = np.arange(2, max(cap, 1) + 1, dtype=np.int64)
    pairs = zip(degrees.tolist(), weight_of(degrees, cap).tolist(), strict=True)
    weights = ", ".join(f"({d}, {w})" for d, w in pairs) or "(0, 0)"
    names = {"source": _quote(str(follows)), "target": _quote(str(out / "part-0.parquet"))}
    started = time.perf_counter()
    # a database file, not :memory:, so that its tables can leave memory under the limit
    with duckdb.connect(str(spill / "plain.duckdb"), config=config) as con:
        for statement in PLAIN_SQL:
            con.execute(statement.format(weights=weights, top_n=int(top_n), **names))
    seconds = time.perf_counter() - started
    shutil.rmtree(spill, ignore_errors=True)
    return seconds


def spill_folder(out: Path) -> Path:
    """Where a DuckDB baseline whose results would go to `out` spills, beside `out`."""
    return out.parent / f"{out.name}-spill"


def duckdb_sum_only(
    follows: Path, out: Path, *, threads: int, memory_limit: str, cap: int = 1000
) -> tuple[float, int]:
    """DuckDB's floor for one exact pass: the job's own prepared tables and batches,
    every batch's two-hop paths joined and summed per (viewer, candidate), and nothing
    else: no exclusions, no floor, no ranking, no reasons, no output. The seconds of the
    batches (the preparation is not counted) and the number of pairs summed; nothing is
    written to `out`, only beside it while it runs (spill_folder)."""
    from mayknow.suggestions.batch import plan, sql
    from mayknow.suggestions.batch.engines import DuckDBRunner, EngineOptions

    spill = spill_folder(out)
    shutil.rmtree(spill, ignore_errors=True)
    runner = DuckDBRunner(EngineOptions(threads=threads, memory_limit=memory_limit), spill)
    try:
        runner.register_parquet("follows_raw", [follows])
        for step in [plan.weights_step(cap), *sql.prepare_steps(None, 20)]:
            runner.run(step)
        batches = plan.plan_batches(runner, runner.default_batch_paths)
        started, pairs = time.perf_counter(), 0
        for batch in batches:
            paths = sql.PATHS.format(lo=batch.lo, hi=batch.hi, broadcast="")
            pairs += int(runner.con.execute(SUM_ONLY.format(paths=paths)).fetchall()[0][0])
        seconds = time.perf_counter() - started
    finally:
        runner.close()
        shutil.rmtree(spill, ignore_errors=True)
    return seconds, pairs


SUM_ONLY = """
SELECT count(*), sum(score)
FROM (SELECT v, c, sum(weight) AS score FROM ({paths}) p GROUP BY v, c) s
"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def weight_of(degrees: I64, cap: int) -> I64:
    table = np.zeros(max(cap, 1) + 1, dtype=np.int64)
    for d in range(2, cap + 1):
        table[d] = round(1e9 / math.log(d))
    out = np.zeros(degrees.size, dtype=np.int64)
    inside = degrees <= cap
    out[inside] = table[degrees[inside]]
    return out


def scipy_top(m: Mutual, *, top_n: int = 20, cap: int = 1000, block: int = 20_000) -> pa.Table:
    """A @ diag(weights) @ A in row blocks, neighbours and self removed, top-N per row."""
    ones = np.ones(m.src.size, dtype=np.int64)
    adj = sp.csr_array((ones, (m.src, m.dst)), shape=(m.n, m.n))
    degree = np.diff(adj.indptr).astype(np.int64)
    weighted = sp.csr_array(sp.diags_array(weight_of(degree, cap)) @ adj)
    parts = []
    for lo in range(0, m.n, block):
        rows = adj[lo : lo + block]
        scores = sp.csr_array(rows @ weighted)
        scores = scores - scores.multiply(rows) * 1  # drop existing connections
        scores = sp.csr_array(scores)
        r = np.repeat(np.arange(scores.shape[0]), np.diff(scores.indptr))
        c, s = scores.indices.astype(np.int64), scores.data
        keep = (s > 0) & (c != r + lo)
        r, c, s = r[keep], c[keep], s[keep]
        order = np.lexsort((c, -s, r))
        r, c, s = r[order], c[order], s[order]
        start = np.searchsorted(r, r, side="left")
        rank = np.arange(r.size) - start
        top = rank < top_n
        parts.append((m.ids[r[top] + lo], m.ids[c[top]], s[top]))
    return _table(parts)


def networkx_sample(
    m: Mutual, *, viewers: int, top_n: int = 20, cap: int = 1000, seed: int = 1
) -> tuple[pa.Table, float, int]:
    """networkx for a random sample of viewers: (rows, seconds, paths of the sample).

    The graph holds every edge within two hops of the sample (enough for exact answers)
    and the degrees are the full graph's; building it is not timed."""
    degree_all = np.bincount(m.src, minlength=m.n)
    rng = np.random.default_rng(seed)
    sample = rng.choice(m.n, size=min(viewers, m.n), replace=False)
    near = np.zeros(m.n, dtype=bool)
    near[sample] = True
    near[m.dst[near[m.src]]] = True  # the sample and its mutual connections
    keep = near[m.src]
    graph = nx.Graph()
    graph.add_edges_from(zip(m.src[keep].tolist(), m.dst[keep].tolist(), strict=True))
    degree = {int(v): int(degree_all[v]) for v in graph.nodes}
    weights = {d: round(1e9 / math.log(d)) for d in range(2, cap + 1)}
    started, paths = time.perf_counter(), 0
    parts = []
    for v in sample.tolist():
        known, scores = set(graph.adj[v]), dict[int, int]()
        for w in graph.adj[v]:
            dw = degree[w]
            if 2 <= dw <= cap:
                paths += dw
                for c in graph.adj[w]:
                    if c != v and c not in known:
                        scores[c] = scores.get(c, 0) + weights[dw]
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
        parts.append(
            (
                m.ids[np.full(len(best), v, dtype=np.int64)],
                m.ids[np.array([c for c, _ in best], dtype=np.int64)],
                np.array([s for _, s in best], dtype=np.int64),
            )
        )
    return _table(parts), time.perf_counter() - started, paths


def _table(parts: list[tuple[I64, I64, I64]]) -> pa.Table:
    def col(i: int) -> pa.Array:
        chunks = [p[i] for p in parts if p[i].size]
        return pa.array(np.concatenate(chunks) if chunks else np.zeros(0, np.int64))

    return pa.table({"viewer_id": col(0), "candidate_id": col(1), "score": col(2)})
