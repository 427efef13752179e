from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mayknow.identity.keyring import KEY_FILE, KeyRing, KeyRingError, load_or_create


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
