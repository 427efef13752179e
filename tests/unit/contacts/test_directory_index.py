"""The matching directory's in-memory index against a plain dictionary of the same facts."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mayknow.contacts.directory import Index, prefixes


def _index(entries: list[tuple[int, int]]) -> Index:
    ids = np.array([user_id for user_id, _ in entries], dtype=np.int64)
    keys = np.array([prefix for _, prefix in entries], dtype=np.uint64)
    return Index.of(ids, keys, versions=(1,), seq=0)


def _queries(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


@pytest.mark.parametrize("size", [0, 1, 7, 1_000, 50_000])
def test_lookup_finds_exactly_the_entries_under_the_asked_prefixes(size: int) -> None:
    rng = random.Random(size)
    entries = [(10_000 + i, rng.getrandbits(64)) for i in range(size)]
    index = _index(entries)
    owners: dict[int, set[int]] = {}
    for user_id, prefix in entries:
        owners.setdefault(prefix, set()).add(user_id)
    present = [prefix for _, prefix in rng.sample(entries, min(size, 300))]
    absent = [rng.getrandbits(64) for _ in range(700)]
    for query in (present, absent, present + absent, []):
        expected = set().union(*(owners.get(q, set()) for q in query))
        assert index.lookup(_queries(query)) == expected


def test_the_extremes_of_the_key_space_and_shared_prefixes_are_found() -> None:
    top, shared = 2**64 - 1, 2**63
    index = _index([(1, 0), (2, top), (3, shared), (4, shared), (5, shared + 1)])
    assert index.lookup(_queries([0])) == {1}
    assert index.lookup(_queries([top])) == {2}
    assert index.lookup(_queries([shared])) == {3, 4}  # a collision: both, for the store to judge
    assert index.lookup(_queries([shared - 1, 12345])) == set()


def test_changes_after_the_build_override_what_was_built() -> None:
    index = _index([(1, 111), (2, 222), (3, 333)])
    index.apply(1, None)  # withdrew
    index.apply(2, 999)  # a new number
    index.apply(4, 444)  # granted after the build
    assert index.lookup(_queries([111, 222, 333, 444, 999])) == {2, 3, 4}
    assert index.lookup(_queries([222])) == set()
    index.apply(2, 222)  # back to the old number
    assert index.lookup(_queries([999])) == set()
    assert index.lookup(_queries([222])) == {2}
    index.apply(4, None)
    assert index.lookup(_queries([444])) == set()
    assert index.added == {222: {2}}  # nothing kept for a prefix nobody holds


def test_prefixes_are_the_first_eight_bytes_of_each_pseudonym() -> None:
    pseudonyms = [bytes(range(i, i + 32)) for i in (0, 100)]
    got = prefixes(pseudonyms)
    assert got.dtype == np.uint64
    assert got.tobytes() == pseudonyms[0][:8] + pseudonyms[1][:8]
