"""A cuckoo filter of OPRF outputs for private contact discovery (format ``MKCF`` v1).

The server publishes the OPRF outputs of all discoverable accounts as this filter (Kales et al.,
"Mobile Private Contact Discovery at Scale", USENIX Security 2019); a client checks its own
outputs against it and reports only its matches. It is a cuckoo filter (Fan et al., CoNEXT 2014)
with partial-key cuckoo hashing, specified byte for byte because the browser module
(``web/private-discovery/index.js``) reads the same bytes; its vectors are
``tests/unit/contacts/cuckoo_vectors.json``.

Item key. ``tag8`` is the first 8 bytes of the 64-byte OPRF output; ``x`` is tag8 read as a
little-endian integer and ``m`` the bucket count (any integer, 1 <= m < 2**30 so that the item
count, at most 4m, fits its u32):

- fingerprint ``fp = x >> 40`` (bytes 5..7, 24 bits), and ``fp = 1`` where that is 0;
- ``i1 = (x & 0xFFFFFFFF) % m`` (bytes 0..3);
- ``alt(i, fp) = (h(fp) - i) mod m`` with ``h(fp) = ((fp * 0x5BD1E995) & 0xFFFFFFFF) % m``,
  and ``i2 = alt(i1, fp)``. ``alt(alt(i, fp), fp) == i`` for every m, which is what lets m
  be any integer rather than a power of two (the XOR form ``i1 ^ h(fp)`` needs a power of two,
  and a power-of-two m leaves the load anywhere between 0.475 and 0.95, that is up to 6.3 bytes
  per item; see "Size").

Layout. A 16-byte header: magic ``b"MKCF"``, u8 format version 1, u8 fingerprint bits 24,
u8 slots per bucket 4, u8 reserved 0, u32 LE bucket count m, u32 LE item count. Then m buckets of
4 slots; slot s of bucket b is the 3-byte little-endian fingerprint at body offset
``3 * (4 * b + s)``, 0 meaning empty. The item count equals the number of non-empty slots.

Size. ``for_capacity(n)`` takes the smallest m with ``4 * 0.95 * m >= max(n, 16)``, so a full
filter has a load of at most 0.95 and occupies ``16 + 12 * m`` bytes: 3 / load bytes per item,
3.16 at 0.95, at most 3.2 from 700 items on (m is rounded up) and under 4 from 32 items on
(the header and the minimum of 5 buckets weigh only on smaller filters); any load above 0.75
stays under 4 bytes per item. ``build`` grows m by 1/16 and starts again if an insertion fails.

False positives. A lookup compares the query's fingerprint with at most 8 stored ones (two
buckets of 4). A non-member's tag is independent of the stored fingerprints, and no
fingerprint value has probability above 2 / 2**24 (the value 1 also stands for 0), so
``FPR <= 8 * 2 / 2**24 = 2**-20 ~= 9.54e-7 < 1e-6`` per lookup, whatever the load. With
near-uniform stored fingerprints it is ``~= 8 * load / 2**24``, about 4.5e-7 at load 0.95.

Insertion. An item goes to the first empty slot of i1, then of i2. Otherwise, with all
arithmetic mod 2**32 and ``xorshift32(s)``: ``s ^= s << 13; s ^= s >> 17; s ^= s << 5``:
``s = xorshift32(fp ^ i1 * 0x9E3779B1 ^ count * 0x85EBCA6B or 1)`` (count: items before this
one); the walk starts in i2 if s is odd, else in i1; then at most 500 times: ``s = xorshift32(s)``,
swap the fingerprint in hand with slot ``s >> 30`` of the current bucket, move to
``alt(bucket, evicted fingerprint)`` and stop if that bucket has an empty slot (the first one
takes it). So the same items added in the same order give the same bytes, in Python and in
JavaScript, and a filter read back with ``from_bytes`` goes on exactly as the original would.
A failed insertion is undone, so ``add`` returning False leaves the filter
as it was (no false negatives). Items are a multiset: adding a tag twice stores it twice.
``remove`` must only be given tags that were added: removing a non-member that shares a
fingerprint and bucket pair with a member removes the member.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable

MAGIC = b"MKCF"
FORMAT_VERSION = 1
FINGERPRINT_BITS = 24
SLOTS_PER_BUCKET = 4
HEADER = struct.Struct("<4sBBBBII")
HEADER_SIZE = HEADER.size  # 16
TAG_SIZE = 8
MAX_BUCKETS = 2**30 - 1
MAX_LOAD = 0.95
MAX_KICKS = 500
MAX_REBUILDS = 8
BYTES_PER_BUCKET = SLOTS_PER_BUCKET * FINGERPRINT_BITS // 8  # 12

_M32 = 0xFFFFFFFF
_FP_MIX = 0x5BD1E995
_TYPECODE = next(code for code in "IL" if array(code).itemsize == 4)


class FilterFull(Exception):
    """An item found no place after 500 evictions: download the full filter again."""


def tag_of(output: bytes) -> bytes:
    """The filter key of an OPRF output: its first 8 bytes."""
    if len(output) < TAG_SIZE:
        raise ValueError("an OPRF output has at least 8 bytes")
    return bytes(output[:TAG_SIZE])


def buckets_for(n: int) -> int:
    """The bucket count ``for_capacity`` uses: the smallest m with 4 * 0.95 * m >= max(n, 16)."""
    if n < 0:
        raise ValueError("capacity must not be negative")
    m = -(-max(n, 16) * 5 // 19)  # ceil(max(n, 16) / 3.8) in integers
    if m > MAX_BUCKETS:
        raise ValueError(f"capacity {n} needs more than {MAX_BUCKETS} buckets")
    return m


def _key(tag: bytes, m: int) -> tuple[int, int, int]:
    """(fp, i1, i2) of a tag in a filter of m buckets."""
    if len(tag) != TAG_SIZE:
        raise ValueError(f"a tag is {TAG_SIZE} bytes, got {len(tag)}")
    x = int.from_bytes(tag, "little")
    fp = (x >> 40) or 1
    i1 = (x & _M32) % m
    return fp, i1, (((fp * _FP_MIX) & _M32) - i1) % m


def _xorshift32(state: int) -> int:
    state ^= (state << 13) & _M32
    state ^= state >> 17
    return state ^ ((state << 5) & _M32)


def _free_slot(s: array[int], b: int) -> int:
    """The position of the first empty slot of the bucket starting at ``b``, or -1."""
    if s[b] == 0:
        return b
    if s[b + 1] == 0:
        return b + 1
    if s[b + 2] == 0:
        return b + 2
    if s[b + 3] == 0:
        return b + 3
    return -1


class CuckooFilter:
    """A cuckoo filter of 8-byte tags; see the module docstring for the exact format."""

    __slots__ = ("_count", "_m", "_slots")

    def __init__(self, buckets: int) -> None:
        if not 1 <= buckets <= MAX_BUCKETS:
            raise ValueError(f"bucket count must be between 1 and {MAX_BUCKETS}, got {buckets}")
        self._m = buckets
        self._count = 0
        self._slots = array(_TYPECODE, bytes(4 * SLOTS_PER_BUCKET * buckets))

    @classmethod
    def for_capacity(cls, n: int) -> CuckooFilter:
        """An empty filter sized for ``n`` items at a load of at most 0.95."""
        return cls(buckets_for(n))

    @classmethod
    def build(cls, tags: Iterable[bytes]) -> CuckooFilter:
        """A filter of ``tags``, sized for their number.

        If an insertion fails (rare at load 0.95), m grows by 1/16 and the filter is built again,
        up to 8 times; then ``FilterFull`` is raised, which takes more than 8 copies of one tag.
        """
        items = list(tags)
        m = buckets_for(len(items))
        for _ in range(MAX_REBUILDS + 1):
            cuckoo = cls(m)
            if cuckoo._add_all(items):
                return cuckoo
            m = min(MAX_BUCKETS, m + max(1, m // 16))
        raise FilterFull(f"{len(items)} tags did not fit after {MAX_REBUILDS} rebuilds")

    @property
    def buckets(self) -> int:
        return self._m

    @property
    def load(self) -> float:
        return self._count / (SLOTS_PER_BUCKET * self._m)

    def __len__(self) -> int:
        return self._count

    def __contains__(self, tag: bytes) -> bool:
        fp, i1, i2 = _key(tag, self._m)
        s = self._slots
        b = 4 * i1
        if s[b] == fp or s[b + 1] == fp or s[b + 2] == fp or s[b + 3] == fp:
            return True
        b = 4 * i2
        return s[b] == fp or s[b + 1] == fp or s[b + 2] == fp or s[b + 3] == fp

    def add(self, tag: bytes) -> bool:
        """Insert ``tag``; False (and the filter unchanged) when it finds no place."""
        fp, i1, i2 = _key(tag, self._m)
        return self._insert(fp, i1, i2)

    def remove(self, tag: bytes) -> bool:
        """Remove one copy of ``tag``; False if neither of its buckets holds its fingerprint."""
        fp, i1, i2 = _key(tag, self._m)
        s = self._slots
        for b in (i1, i2):
            for pos in range(4 * b, 4 * b + 4):
                if s[pos] == fp:
                    s[pos] = 0
                    self._count -= 1
                    return True
        return False

    def apply_delta(self, added: Iterable[bytes], removed: Iterable[bytes]) -> None:
        """Remove ``removed``, then add ``added``.

        Raises ``FilterFull`` when an addition finds no place; the filter is then partly updated
        and the caller should download the full filter again.
        """
        for tag in removed:
            self.remove(tag)
        for tag in added:
            if not self.add(tag):
                raise FilterFull("the filter is full; download it again")

    def _add_all(self, tags: list[bytes]) -> bool:
        m, s, insert = self._m, self._slots, self._insert
        for tag in tags:
            if len(tag) != TAG_SIZE:
                raise ValueError(f"a tag is {TAG_SIZE} bytes, got {len(tag)}")
            x = int.from_bytes(tag, "little")
            fp = (x >> 40) or 1
            i1 = (x & _M32) % m
            b = 4 * i1
            if s[b] == 0:  # the common cases inline: a free slot in the first bucket
                s[b] = fp
            elif s[b + 1] == 0:
                s[b + 1] = fp
            elif s[b + 2] == 0:
                s[b + 2] = fp
            elif s[b + 3] == 0:
                s[b + 3] = fp
            elif not insert(fp, i1, (((fp * _FP_MIX) & _M32) - i1) % m):
                return False
            else:
                continue
            self._count += 1
        return True

    def _insert(self, fp: int, i1: int, i2: int) -> bool:
        s = self._slots
        for b in (4 * i1, 4 * i2):
            pos = _free_slot(s, b)
            if pos >= 0:
                s[pos] = fp
                self._count += 1
                return True
        m = self._m
        state = (fp ^ ((i1 * 0x9E3779B1) & _M32) ^ ((self._count * 0x85EBCA6B) & _M32)) or 1
        state = _xorshift32(state)
        bucket = i2 if state & 1 else i1
        evicted: list[tuple[int, int]] = []
        for _ in range(MAX_KICKS):
            state ^= (state << 13) & _M32  # xorshift32, inline
            state ^= state >> 17
            state ^= (state << 5) & _M32
            pos = 4 * bucket + (state >> 30)
            evicted.append((pos, s[pos]))
            s[pos], fp = fp, s[pos]
            bucket = (((fp * _FP_MIX) & _M32) - bucket) % m
            pos = _free_slot(s, 4 * bucket)
            if pos >= 0:
                s[pos] = fp
                self._count += 1
                return True
        for pos, old in reversed(evicted):
            s[pos] = old
        return False

    def to_bytes(self) -> bytes:
        """The header and the 3-byte slots (see the module docstring)."""
        header = HEADER.pack(
            MAGIC, FORMAT_VERSION, FINGERPRINT_BITS, SLOTS_PER_BUCKET, 0, self._m, self._count
        )
        slots = self._slots
        if sys.byteorder == "big":  # pragma: no cover - no big-endian CI
            slots = array(_TYPECODE, slots)
            slots.byteswap()
        raw = slots.tobytes()
        body = bytearray(3 * len(slots))
        body[0::3] = raw[0::4]
        body[1::3] = raw[1::4]
        body[2::3] = raw[2::4]
        return header + bytes(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> CuckooFilter:
        """Read ``to_bytes`` output back; ``ValueError`` names what is wrong with bad input."""
        data = bytes(data)
        if len(data) < HEADER_SIZE:
            raise ValueError(f"cuckoo filter truncated: {len(data)} bytes, no complete header")
        magic, version, bits, slots_per_bucket, reserved, m, count = HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ValueError("not a cuckoo filter: bad magic")
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported cuckoo filter format version {version}")
        if (bits, slots_per_bucket, reserved) != (FINGERPRINT_BITS, SLOTS_PER_BUCKET, 0):
            raise ValueError(
                f"unsupported cuckoo filter parameters: {bits}-bit fingerprints, "
                f"{slots_per_bucket} slots per bucket, reserved byte {reserved}"
            )
        if not 1 <= m <= MAX_BUCKETS:
            raise ValueError(f"cuckoo filter bucket count {m} is not between 1 and {MAX_BUCKETS}")
        expected = HEADER_SIZE + BYTES_PER_BUCKET * m
        if len(data) != expected:
            problem = "truncated" if len(data) < expected else "has trailing data"
            raise ValueError(
                f"cuckoo filter {problem}: {len(data)} bytes, {expected} expected for {m} buckets"
            )
        body = data[HEADER_SIZE:]
        raw = bytearray(4 * SLOTS_PER_BUCKET * m)
        raw[0::4] = body[0::3]
        raw[1::4] = body[1::3]
        raw[2::4] = body[2::3]
        slots = array(_TYPECODE)
        slots.frombytes(raw)
        if sys.byteorder == "big":  # pragma: no cover - no big-endian CI
            slots.byteswap()
        occupied = len(slots) - slots.count(0)
        if count != occupied:
            raise ValueError(f"cuckoo filter item count {count} != {occupied} occupied slots")
        cuckoo = cls.__new__(cls)
        cuckoo._m, cuckoo._count, cuckoo._slots = m, count, slots
        return cuckoo
