"""The cuckoo filter of OPRF outputs: exact format, no false negatives, its false-positive bound.

``cuckoo_vectors.json`` pins the bytes for the browser module; regenerate it (only on a deliberate
format change) with ``python -m tests.unit.contacts.test_cuckoo`` from the repository root.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import struct
from pathlib import Path
from typing import Any

import pytest

from mayknow.contacts.cuckoo import (
    HEADER_SIZE,
    MAX_BUCKETS,
    CuckooFilter,
    FilterFull,
    buckets_for,
    tag_of,
)

VECTORS_PATH = Path(__file__).parent / "cuckoo_vectors.json"


def random_tags(rng: random.Random, n: int) -> list[bytes]:
    data = rng.randbytes(8 * n)
    return [data[i : i + 8] for i in range(0, 8 * n, 8)]


def key(tag: bytes, m: int) -> tuple[int, int, int]:
    """(fp, i1, i2) written out from the module docstring, independently of the module."""
    fp = int.from_bytes(tag[5:8], "little") or 1
    i1 = int.from_bytes(tag[0:4], "little") % m
    return fp, i1, (((fp * 0x5BD1E995) & 0xFFFFFFFF) % m - i1) % m


def slots(data: bytes, m: int, bucket: int) -> list[int]:
    offset = HEADER_SIZE + 12 * bucket
    return [int.from_bytes(data[offset + 3 * s : offset + 3 * s + 3], "little") for s in range(4)]


def test_every_added_tag_is_found() -> None:
    tags = random_tags(random.Random(1), 100_000)
    cuckoo = CuckooFilter.build(tags)
    assert len(cuckoo) == 100_000
    assert cuckoo.load > 0.94
    assert all(tag in cuckoo for tag in tags)


@pytest.mark.slow
def test_false_positive_rate_at_full_load_is_below_one_in_a_million() -> None:
    # 2M lookups at load 0.95: about 0.9 false positives expected (8 * 0.95 / 2**24 each); the
    # proven bound (2**-20 per lookup) gives at most 1.9; 10 or more is all but impossible.
    rng = random.Random(2)
    cuckoo = CuckooFilter.build(random_tags(rng, 100_000))
    assert cuckoo.load > 0.94
    false_positives = sum(tag in cuckoo for tag in random_tags(rng, 2_000_000))
    assert false_positives < 10


@pytest.mark.slow
def test_a_million_accounts_take_under_4_bytes_each() -> None:
    tags = random_tags(random.Random(3), 1_000_000)
    data = CuckooFilter.build(tags).to_bytes()
    assert len(data) / len(tags) < 3.2
    cuckoo = CuckooFilter.from_bytes(data)
    assert all(tag in cuckoo for tag in tags[::97])


@pytest.mark.parametrize("n", [0, 1, 16, 31, 32, 100, 700, 1000, 4097, 65_536, 123_457])
def test_sizing_keeps_the_load_at_or_below_095_and_the_bytes_per_item_small(n: int) -> None:
    m = buckets_for(n)
    assert 4 * 0.95 * m >= max(n, 16) > 4 * 0.95 * (m - 1)
    size = len(CuckooFilter.for_capacity(n).to_bytes())
    assert size == HEADER_SIZE + 12 * m
    if n >= 32:
        assert size / n < 4
    if n >= 700:
        assert size / n <= 3.2


def test_the_alternate_bucket_of_the_alternate_bucket_is_the_first() -> None:
    rng = random.Random(4)
    for tag in random_tags(rng, 2000):
        m = rng.choice([1, 2, 3, 5, 7, 264, 1 << 20, (1 << 20) + 1, MAX_BUCKETS])
        fp, i1, i2 = key(tag, m)
        assert key(tag, m)[2] == (((fp * 0x5BD1E995) & 0xFFFFFFFF) - i1) % m
        assert ((((fp * 0x5BD1E995) & 0xFFFFFFFF) % m - i2) % m) == i1


def test_an_item_sits_in_one_of_its_two_buckets_as_its_fingerprint() -> None:
    tags = random_tags(random.Random(5), 500)
    cuckoo = CuckooFilter.build(tags)
    data, m = cuckoo.to_bytes(), cuckoo.buckets
    for tag in tags:
        fp, i1, i2 = key(tag, m)
        assert fp in slots(data, m, i1) + slots(data, m, i2)


def test_a_zero_fingerprint_is_stored_as_one() -> None:
    cuckoo = CuckooFilter(5)
    tag = (7).to_bytes(8, "little")  # bytes 5..7 are zero
    assert cuckoo.add(tag)
    assert slots(cuckoo.to_bytes(), 5, 7 % 5) == [1, 0, 0, 0]
    assert tag in cuckoo


def test_removed_tag_is_no_longer_found() -> None:
    tags = random_tags(random.Random(6), 10_000)
    cuckoo = CuckooFilter.build(tags)
    gone, kept = tags[:5000], tags[5000:]
    assert all(cuckoo.remove(tag) for tag in gone)
    assert len(cuckoo) == 5000
    assert all(tag in cuckoo for tag in kept)
    m = cuckoo.buckets
    kept_keys = {(fp, min(i1, i2)) for fp, i1, i2 in (key(tag, m) for tag in kept)}
    for tag in gone:
        fp, i1, i2 = key(tag, m)
        shared = (fp, min(i1, i2)) in kept_keys  # another item with the same buckets and fp
        assert (tag in cuckoo) == shared


def test_a_tag_added_twice_survives_one_removal() -> None:
    cuckoo = CuckooFilter.for_capacity(10)
    tag = bytes(range(8))
    assert cuckoo.add(tag)
    assert cuckoo.add(tag)
    assert cuckoo.remove(tag)
    assert tag in cuckoo
    assert cuckoo.remove(tag)
    assert tag not in cuckoo
    assert not cuckoo.remove(tag)


def test_a_full_filter_refuses_an_item_and_is_left_unchanged() -> None:
    rng = random.Random(7)
    cuckoo, members = CuckooFilter(8), []
    while True:
        tag, before = rng.randbytes(8), cuckoo.to_bytes()
        if not cuckoo.add(tag):
            break
        members.append(tag)
    assert cuckoo.to_bytes() == before
    assert len(cuckoo) == len(members) > 0.9 * 32
    assert all(tag in cuckoo for tag in members)


def test_build_gives_up_on_more_copies_of_one_tag_than_two_buckets_hold() -> None:
    with pytest.raises(FilterFull):
        CuckooFilter.build([bytes(8)] * 9)
    assert len(CuckooFilter.build([bytes(8)] * 8)) == 8


def test_round_trip_keeps_bytes_members_and_what_comes_next() -> None:
    rng = random.Random(8)
    tags, later = random_tags(rng, 3000), random_tags(rng, 100)
    cuckoo = CuckooFilter.build(tags)
    copy = CuckooFilter.from_bytes(cuckoo.to_bytes())
    assert copy.to_bytes() == cuckoo.to_bytes()
    assert (len(copy), copy.buckets) == (len(cuckoo), cuckoo.buckets)
    assert all(tag in copy for tag in tags)
    for tag in later:
        assert copy.add(tag) == cuckoo.add(tag)
    assert copy.to_bytes() == cuckoo.to_bytes()


def test_the_same_tags_in_the_same_order_give_the_same_bytes() -> None:
    tags = random_tags(random.Random(9), 20_000)
    assert CuckooFilter.build(tags).to_bytes() == CuckooFilter.build(list(tags)).to_bytes()


def test_header_fields() -> None:
    cuckoo = CuckooFilter.build(random_tags(random.Random(10), 1000))
    assert struct.unpack_from("<4sBBBBII", cuckoo.to_bytes()) == (
        b"MKCF",
        1,
        24,
        4,
        0,
        264,
        1000,
    )


def header(m: int = 5, count: int = 0, **fields: int) -> bytes:
    values = {"version": 1, "bits": 24, "slots": 4, "reserved": 0} | fields
    return struct.pack("<4sBBBBII", b"MKCF", *values.values(), m, count)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated"),
        (header()[:15], "truncated"),
        (b"MKCG" + header()[4:] + bytes(60), "magic"),
        (header(version=2) + bytes(60), "version 2"),
        (header(bits=16) + bytes(60), "16-bit"),
        (header(slots=2) + bytes(60), "2 slots"),
        (header(reserved=1) + bytes(60), "reserved"),
        (header(m=0), "bucket count 0"),
        (header(m=MAX_BUCKETS + 1), "bucket count"),
        (header(m=2**32 - 1), "bucket count"),
        (header(m=5) + bytes(59), "truncated: 75 bytes, 76 expected"),
        (header(m=5) + bytes(61), "trailing data"),
        (header(m=8) + bytes(60), "truncated"),  # a power of two, but not the size that came
        (header(m=5, count=1) + bytes(60), "count 1 != 0"),
        (header(m=5, count=0) + b"\x01" + bytes(59), "count 0 != 1"),
    ],
)
def test_from_bytes_rejects_what_is_not_a_filter(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CuckooFilter.from_bytes(data)


def test_tags_are_8_bytes() -> None:
    cuckoo = CuckooFilter(5)
    output = hashlib.sha512(b"x").digest()
    assert tag_of(output) == output[:8]
    for bad in (output, output[:7]):
        with pytest.raises(ValueError, match="8 bytes"):
            cuckoo.add(bad)
        with pytest.raises(ValueError, match="8 bytes"):
            _ = bad in cuckoo
    with pytest.raises(ValueError, match="8 bytes"):
        CuckooFilter.build([output])


def test_apply_delta_removes_then_adds() -> None:
    rng = random.Random(11)
    tags, newcomers = random_tags(rng, 1000), random_tags(rng, 50)
    cuckoo = CuckooFilter.build(tags)
    cuckoo.apply_delta(added=newcomers + tags[:10], removed=tags[:100])
    assert len(cuckoo) == 960
    assert all(tag in cuckoo for tag in newcomers + tags[:10] + tags[100:])
    expected = CuckooFilter.build(tags)
    for tag in tags[:100]:
        expected.remove(tag)
    for tag in newcomers + tags[:10]:
        expected.add(tag)
    assert cuckoo.to_bytes() == expected.to_bytes()


def test_apply_delta_reports_a_full_filter() -> None:
    rng = random.Random(12)
    cuckoo = CuckooFilter.build(random_tags(rng, 16))
    with pytest.raises(FilterFull, match="download"):
        cuckoo.apply_delta(added=random_tags(rng, 100), removed=[])


# Cross-language vectors (read by web/private-discovery/test/vectors.test.js).


def member(i: int) -> bytes:
    return hashlib.sha512(b"member" + i.to_bytes(4, "little")).digest()[:8]


def stranger(i: int) -> bytes:
    return hashlib.sha512(b"stranger" + i.to_bytes(4, "little")).digest()[:8]


def added(i: int) -> bytes:
    return hashlib.sha512(b"added" + i.to_bytes(4, "little")).digest()[:8]


def lookup(tag: bytes, cuckoo: CuckooFilter, is_member: bool) -> dict[str, Any]:
    fp, i1, i2 = key(tag, cuckoo.buckets)
    return {
        "tag": tag.hex(),
        "member": is_member,
        "fp": fp,
        "i1": i1,
        "i2": i2,
        "contains": tag in cuckoo,
    }


def make_vectors() -> dict[str, Any]:
    members = [member(i) for i in range(1000)]
    cuckoo = CuckooFilter.build(members)
    assert cuckoo.buckets == buckets_for(1000)
    strangers = [tag for tag in map(stranger, range(100)) if tag not in cuckoo][:20]
    delta_added, delta_removed = [added(i) for i in range(40)], members[:30]
    after = CuckooFilter.from_bytes(cuckoo.to_bytes())
    after.apply_delta(delta_added, delta_removed)
    return {
        "source": "mayknow.contacts.cuckoo, format MKCF v1 (tests/unit/contacts/test_cuckoo.py)",
        "members": "tag8 = SHA-512(b'member' + i.to_bytes(4, 'little'))[0:8] for i in 0..999, "
        "added in that order to an empty filter of `buckets` buckets",
        "strangers": "SHA-512(b'stranger' + i.to_bytes(4, 'little'))[0:8], the first 20 not in it",
        "buckets": cuckoo.buckets,
        "count": len(cuckoo),
        "filter": base64.b64encode(cuckoo.to_bytes()).decode(),
        "lookups": [lookup(tag, cuckoo, True) for tag in members[:20]]
        + [lookup(tag, cuckoo, False) for tag in strangers],
        "delta": {
            "added": [tag.hex() for tag in delta_added],
            "removed": [tag.hex() for tag in delta_removed],
            "note": "SHA-512(b'added' + i.to_bytes(4, 'little'))[0:8] for i in 0..39 added, "
            "members 0..29 removed, removals first",
            "filter": base64.b64encode(after.to_bytes()).decode(),
        },
    }


def test_cross_language_vectors_match_this_implementation() -> None:
    vectors = json.loads(VECTORS_PATH.read_text())
    assert vectors == make_vectors()
    assert [item["contains"] for item in vectors["lookups"]] == [True] * 20 + [False] * 20


if __name__ == "__main__":
    VECTORS_PATH.write_text(json.dumps(make_vectors(), indent=2) + "\n")
