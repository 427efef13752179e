"""A deterministic community graph: the latent acquaintances and the follows drawn from it.

Users sit in communities of 50-500 people, communities in regions. Each user gets a
target degree from a discrete power law with exponent 3 (P(d) ~ d^-3, so P(D > x) =
(d_min / x)^2), and spends it inside the community first, then in the region, then
anywhere: a configuration model per scope, with self-loops and repeats dropped. Hubs
(celebrities) cannot find that many acquaintances at home, so most of their edges land
in the region and beyond. Everything is drawn from one seeded numpy generator, so the
same parameters give the same graph, edge for edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class GraphParams:
    users: int
    seed: int = 20190209
    community_min: int = 50
    community_max: int = 500
    communities_per_region: int = 40
    degree_min: float = 12.1  # the power law's d_min: sets the mean degree
    degree_max: int = 5_000  # no target degree above this
    share_community: float = 0.60  # of a user's stubs, spent inside the community
    share_region: float = 0.25  # ... inside the region; the rest anywhere
    home_room: float = 0.5  # stubs at home at most this share of the community size
    mutual: float = 0.86  # an acquaintance is a mutual follow with this probability
    one_way: float = 0.09  # ... a one-way follow with this one; else not followed
    fan_follows: float = 1.0  # mean extra one-way follows of popular accounts per user


@dataclass(frozen=True)
class Graph:
    community: I64  # community of each user (index 0..users-1)
    region: I64
    acquaintances: I64  # (m, 2) undirected latent edges, a < b
    follows: I64  # (f, 2) directed follows (follower, followee), distinct


def communities(rng: np.random.Generator, p: GraphParams) -> tuple[I64, I64]:
    expected = p.users // ((p.community_min + p.community_max) // 2) + 2
    sizes = rng.integers(p.community_min, p.community_max + 1, size=expected * 2)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, p.users)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= int(ends[count - 1]) - p.users
    community = np.repeat(np.arange(count, dtype=np.int64), sizes)
    region = community // p.communities_per_region
    return community, region


def target_degrees(rng: np.random.Generator, p: GraphParams) -> I64:
    u = 1.0 - rng.random(p.users)  # in (0, 1]
    degrees = np.floor(p.degree_min / np.sqrt(u)).astype(np.int64)
    return np.minimum(degrees, p.degree_max)


def pair_stubs(rng: np.random.Generator, owners: I64, groups: I64) -> I64:
    """Pair stubs at random within each group (configuration model); (k, 2) edges."""
    order = np.lexsort((rng.random(owners.size), groups))
    owners, groups = owners[order], groups[order]
    even = owners.size - owners.size % 2
    a, b = owners[0:even:2], owners[1:even:2]
    same = groups[0:even:2] == groups[1:even:2]
    return np.stack([a[same], b[same]], axis=1)


def split_stubs(rng: np.random.Generator, p: GraphParams, degree: I64, home: I64) -> list[I64]:
    """How many stubs each user spends in the community, the region and anywhere."""
    room = np.floor(home * p.home_room).astype(np.int64)
    in_comm = np.minimum(rng.binomial(degree, p.share_community), room)
    rest = degree - in_comm
    in_region = np.minimum(rng.binomial(rest, p.share_region / (1 - p.share_community)), 8 * room)
    return [in_comm, in_region, rest - in_region]


def acquaintances(rng: np.random.Generator, p: GraphParams, community: I64, region: I64) -> I64:
    degree = target_degrees(rng, p)
    sizes = np.bincount(community)[community]
    counts = split_stubs(rng, p, degree, sizes)
    users = np.arange(p.users, dtype=np.int64)
    scopes = [community, region, np.zeros(p.users, dtype=np.int64)]
    parts = []
    for count, scope in zip(counts, scopes, strict=True):
        owners = np.repeat(users, count)
        parts.append(pair_stubs(rng, owners, scope[owners]))
    edges = np.concatenate(parts)
    edges = edges[edges[:, 0] != edges[:, 1]]
    low, high = edges.min(axis=1), edges.max(axis=1)
    keys = np.unique(low * p.users + high)
    return np.stack([keys // p.users, keys % p.users], axis=1)


def follows_from(rng: np.random.Generator, p: GraphParams, acq: I64) -> I64:
    """Mutual follows for most acquaintances, one-way for some, plus fans of hubs."""
    draw = rng.random(acq.shape[0])
    mutual = acq[draw < p.mutual]
    one_way = acq[(draw >= p.mutual) & (draw < p.mutual + p.one_way)]
    flip = rng.random(one_way.shape[0]) < 0.5
    one_way = np.where(flip[:, None], one_way[:, ::-1], one_way)
    degree = np.bincount(acq.ravel(), minlength=p.users).astype(np.float64)
    fans = rng.poisson(p.fan_follows, p.users)
    followers = np.repeat(np.arange(p.users, dtype=np.int64), fans)
    popular = rng.choice(p.users, size=followers.size, p=degree**2 / np.sum(degree**2))
    fan = np.stack([followers, popular.astype(np.int64)], axis=1)
    every = np.concatenate([mutual, mutual[:, ::-1], one_way, fan])
    every = every[every[:, 0] != every[:, 1]]
    keys = np.unique(every[:, 0] * p.users + every[:, 1])
    return np.stack([keys // p.users, keys % p.users], axis=1)


def generate(p: GraphParams) -> Graph:
    rng = np.random.default_rng(p.seed)
    community, region = communities(rng, p)
    acq = acquaintances(rng, p, community, region)
    return Graph(community, region, acq, follows_from(rng, p, acq))


@dataclass(frozen=True)
class Shape:
    users: int
    follows: int
    mutual_edges: int  # undirected
    mean_degree: float  # of the mutual graph, over all users
    max_degree: int
    hubs: int  # users above the cap
    paths: int  # sum of deg(w)^2 over intermediaries w with 2 <= deg(w) <= cap


def mutual_degrees(follows: I64, users: int) -> I64:
    keys = follows[:, 0] * users + follows[:, 1]
    back = follows[:, 1] * users + follows[:, 0]
    mutual = follows[np.isin(back, keys, assume_unique=True)]
    return np.bincount(mutual[:, 0], minlength=users).astype(np.int64)


def shape(follows: I64, users: int, cap: int = 1000) -> Shape:
    deg = mutual_degrees(follows, users)
    inner = deg[(deg >= 2) & (deg <= cap)]
    return Shape(
        users=users,
        follows=int(follows.shape[0]),
        mutual_edges=int(deg.sum() // 2),
        mean_degree=float(deg.mean()),
        max_degree=int(deg.max(initial=0)),
        hubs=int((deg > cap).sum()),
        paths=int(np.sum(inner * inner)),
    )
