"""Members, their consents and their address books, drawn from the latent graph.

Fictional numbers only: member i has +86 139 0000 0000 + i (block 139 0xxx xxxx, at most
50M members); numbers of people who are not members come from 139 5xxx xxxx. Address
books hold some of a member's acquaintances (members), non-members, and service numbers
such as 10086, written the way phones store them (E.164, national, spaced, dashed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from bench.population.graph import I64, Graph

MEMBER_BASE = 13_900_000_000  # national number of member 0
MEMBER_LIMIT = 50_000_000
OUTSIDER_BASE = 13_950_000_000  # 139 5xxx xxxx: people who are not members
SERVICE_NUMBERS = ("10086", "10010", "10000", "95588", "95555", "12306", "12315")
ID_LOW, ID_HIGH = 2**40, 2**53  # as mayknow.shared.ids: opaque, below 2**53

PURPOSES = (
    "contacts_upload",
    "discoverable_by_phone",
    "suggest_me_to_my_contacts",
    "suggest_from_others_contacts",
)


@dataclass(frozen=True)
class PeopleParams:
    seed: int = 86
    in_book: float = 0.6  # an acquaintance's number is in the book with this probability
    outsiders_per_book: float = 8.0  # mean non-member numbers per book
    outsider_pool: float = 2.0  # distinct non-member numbers per member
    services_per_book: float = 1.5  # mean service numbers per book
    consent_rates: tuple[float, ...] = (0.6, 0.7, 0.5, 0.5)  # one per PURPOSES entry


def user_ids(rng: np.random.Generator, n: int) -> I64:
    """Distinct random ids in [2**40, 2**53), like the service's own."""
    ids = np.unique(rng.integers(ID_LOW, ID_HIGH, size=n + n // 100 + 16, dtype=np.int64))
    rng.shuffle(ids)
    if ids.size < n:  # pragma: no cover - 2**53 is roomy
        raise RuntimeError("id collision")
    return ids[:n]


def national(numbers: npt.NDArray[np.int64]) -> pa.Array:
    return pc.cast(pa.array(numbers), pa.string())


def styled(numbers: npt.NDArray[np.int64], style: npt.NDArray[np.int64]) -> pa.Array:
    """Write 11-digit national numbers the four ways phones keep them."""
    plain = national(numbers)
    head = pc.utf8_slice_codeunits(plain, 0, 3)
    mid = pc.utf8_slice_codeunits(plain, 3, 7)
    tail = pc.utf8_slice_codeunits(plain, 7, 11)
    forms = [
        pc.binary_join_element_wise("+86", plain, ""),
        plain,
        pc.binary_join_element_wise("+86", head, mid, tail, " "),
        pc.binary_join_element_wise(head, mid, tail, "-"),
    ]
    out = forms[0]
    for k in (1, 2, 3):
        out = pc.if_else(pa.array(style == k), forms[k], out)
    return out


def users_table(rng: np.random.Generator, p: PeopleParams, g: Graph) -> pa.Table:
    n = g.community.size
    if n > MEMBER_LIMIT:
        raise ValueError(f"at most {MEMBER_LIMIT} members have fictional numbers here")
    index = np.arange(n, dtype=np.int64)
    columns: dict[str, pa.Array] = {
        "user_id": pa.array(user_ids(rng, n)),
        "phone": pc.binary_join_element_wise("+86", national(MEMBER_BASE + index), ""),
        "nickname": pc.binary_join_element_wise("用户", pc.cast(pa.array(index), pa.string()), ""),
        "community": pa.array(g.community),
        "region": pa.array(g.region),
    }
    for purpose, rate in zip(PURPOSES, p.consent_rates, strict=True):
        columns[purpose] = pa.array(rng.random(n) < rate)
    return pa.table(columns)


def address_books(rng: np.random.Generator, p: PeopleParams, g: Graph, ids: I64) -> pa.Table:
    """(owner_id, number): acquaintances, outsiders and service numbers, shuffled."""
    n = ids.size
    acq = np.concatenate([g.acquaintances, g.acquaintances[:, ::-1]])
    known = acq[rng.random(acq.shape[0]) < p.in_book]
    outsiders = rng.poisson(p.outsiders_per_book, n)
    outsider_owner = np.repeat(np.arange(n, dtype=np.int64), outsiders)
    pool = max(int(n * p.outsider_pool), 1)
    outsider_number = OUTSIDER_BASE + rng.integers(0, pool, outsider_owner.size)
    services = rng.poisson(p.services_per_book, n)
    service_owner = np.repeat(np.arange(n, dtype=np.int64), services)
    service_pick = rng.integers(0, len(SERVICE_NUMBERS), service_owner.size)
    member_style = rng.integers(0, 4, known.shape[0] + outsider_owner.size)
    numbers = pa.chunked_array(
        [
            styled(MEMBER_BASE + known[:, 1], member_style[: known.shape[0]]),
            styled(outsider_number, member_style[known.shape[0] :]),
            pa.array(np.asarray(SERVICE_NUMBERS)[service_pick]),
        ]
    )
    owners = np.concatenate([known[:, 0], outsider_owner, service_owner])
    order = np.lexsort((rng.random(owners.size), owners))
    return pa.table({"owner_id": pa.array(ids[owners[order]]), "number": numbers.take(order)})
