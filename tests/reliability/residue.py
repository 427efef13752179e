"""Looking for numbers in a store's bytes: every number in its text forms and hex digests,
a sample in binary digests and keyed pseudonyms (tests/integration/test_residue.py's
forms, made fast enough for ten thousand numbers)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from mayknow.identity.keyring import KeyRing

DIGITS = re.compile(rb"\d{11,}")
SPACED = re.compile(rb"\d{3} \d{4} \d{4}")
HEX = re.compile(rb"[0-9a-fA-F]{32,}")
ALGORITHMS = ("md5", "sha1", "sha256")


def _texts(e164: str) -> list[str]:
    national = e164.removeprefix("+86")
    return [e164, e164[1:], national]


def _windows(run: bytes, sizes: Sequence[int]) -> set[bytes]:
    return {run[i : i + n] for n in sizes for i in range(len(run) - n + 1)}


def traces(
    haystack: bytes, numbers: Sequence[str], keys: KeyRing | None = None, sample: int = 50
) -> list[str]:
    """The numbers found in ``haystack``, each with the form it was found in."""
    digit_windows: set[bytes] = set()
    for run in DIGITS.findall(haystack):
        digit_windows |= _windows(run, (11, 13))
    spaced = set(SPACED.findall(haystack))
    hex_windows: set[bytes] = set()
    for run in HEX.findall(haystack):
        hex_windows |= _windows(run.lower(), (32, 40, 64))
    found = []
    for index, e164 in enumerate(numbers):
        texts = _texts(e164)
        national = texts[2]
        if {t.lstrip("+").encode() for t in texts} & digit_windows:
            found.append(f"{e164} as digits")
        if f"{national[:3]} {national[3:7]} {national[7:]}".encode() in spaced:
            found.append(f"{e164} spaced")
        digests = [hashlib.new(a, t.encode()).digest() for t in texts for a in ALGORITHMS]
        if {d.hex().encode() for d in digests} & hex_windows:
            found.append(f"{e164} as a hex digest")
        if index % sample == 0:  # binary forms: a sample, searched one by one
            binary = list(digests)
            if keys is not None:
                binary += list(keys.phone_pseudonyms(e164).values())
            if any(b in haystack for b in binary):
                found.append(f"{e164} as a binary digest or pseudonym")
    return found
