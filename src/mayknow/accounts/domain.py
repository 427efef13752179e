"""Rules of accounts that need no database: nicknames, codes, tokens. Pure."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

NICKNAME_MAX = 30
CODE_DIGITS = 6


class InvalidNickname(ValueError):
    pass


def clean_nickname(raw: object) -> str:
    """1-30 characters after trimming; no control, format or unassigned characters."""
    if not isinstance(raw, str):
        raise InvalidNickname("The nickname must be text.")
    nickname = unicodedata.normalize("NFC", raw).strip()
    if not nickname:
        raise InvalidNickname("The nickname is empty.")
    if len(nickname) > NICKNAME_MAX:
        raise InvalidNickname(f"The nickname is longer than {NICKNAME_MAX} characters.")
    if any(
        unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in nickname
    ):
        raise InvalidNickname("The nickname contains control or invisible characters.")
    return nickname


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def looks_like_code(raw: object) -> bool:
    return isinstance(raw, str) and len(raw) == CODE_DIGITS and raw.isascii() and raw.isdigit()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
