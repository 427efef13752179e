from __future__ import annotations

import hmac
import stat
from pathlib import Path

import pytest

from mayknow.identity.keyring import KEY_FILE, Hmac, KeyRing, KeyRingError, load_or_create


def test_the_key_file_is_created_once_with_owner_only_rights(tmp_path: Path) -> None:
    first = load_or_create(tmp_path / "data")
    mode = stat.S_IMODE((tmp_path / "data" / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    again = load_or_create(tmp_path / "data")
    assert again.phone_pseudonym("+8613900001234") == first.phone_pseudonym("+8613900001234")
    assert again.oprf_key() == first.oprf_key()


def test_pseudonyms_are_keyed_and_stable(tmp_path: Path) -> None:
    ours, theirs = load_or_create(tmp_path / "a"), load_or_create(tmp_path / "b")
    assert ours.phone_pseudonym("+8613900001234") == ours.phone_pseudonym("+8613900001234")
    assert ours.phone_pseudonym("+8613900001234") != theirs.phone_pseudonym("+8613900001234")


def test_old_versions_still_open_after_rotation() -> None:
    old = KeyRing.of({1: b"a" * 32}, current=1)
    sealed = old.encrypt(b"+8613900001234")
    rotated = KeyRing.of({1: b"a" * 32, 2: b"b" * 32}, current=2)
    assert rotated.decrypt(sealed) == b"+8613900001234"
    assert set(rotated.phone_pseudonyms("+8613900001234")) == {1, 2}
    assert rotated.encrypt(b"x")[0] == 2


def test_tampered_ciphertext_is_refused() -> None:
    ring = KeyRing.of({1: b"a" * 32}, current=1)
    sealed = bytearray(ring.encrypt(b"+8613900001234"))
    sealed[-1] ^= 1
    with pytest.raises(KeyRingError):
        ring.decrypt(bytes(sealed))


def test_pseudonyms_of_a_batch_are_each_numbers_pseudonyms_under_every_version() -> None:
    ring = KeyRing.of({1: b"a" * 32, 2: b"b" * 32}, current=2)
    numbers = ["+8613900001234", "+8613900005678"]
    expected = {p: n for n in numbers for p in ring.phone_pseudonyms(n).values()}
    assert ring.pseudonyms_of(numbers) == expected
    assert len(expected) == 4


# RFC 4231, test cases 1, 2 and 6 (a key longer than the block is hashed first).
RFC_4231 = [
    (
        bytes([0x0B] * 20),
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        bytes([0xAA] * 131),
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
]


@pytest.mark.parametrize(("key", "message", "expected"), RFC_4231)
def test_precomputed_hmac_gives_the_rfc_4231_answers(
    key: bytes, message: bytes, expected: str
) -> None:
    mac = Hmac(key)
    assert mac(message).hex() == expected
    assert mac(message).hex() == expected  # the precomputed states are not used up


def test_keyed_digests_equal_the_standard_librarys_hmac() -> None:
    ring = KeyRing.of({1: b"\x01" * 32, 2: b"\x02" * 32}, current=2)
    for version in (1, 2):
        subkey = ring.subkey("phone-pseudonym", version)
        number = "+8613900001234"
        expected = hmac.digest(subkey, number.encode(), "sha256")
        assert ring.phone_pseudonym(number, version) == expected
