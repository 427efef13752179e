"""Opaque account ids: random, so that ids say nothing about order or count."""

from __future__ import annotations

import secrets

# Below 2**53 so that JavaScript clients can hold every id exactly as a number.
_LOW = 2**40
_HIGH = 2**53


def new_user_id() -> int:
    return _LOW + secrets.randbelow(_HIGH - _LOW)


def new_ref() -> str:
    """A random reference, for records that must not name an account."""
    return secrets.token_hex(16)
