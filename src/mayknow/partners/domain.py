"""Partner apps (H9): what a partner is, what it may ask for, and how long a code or a
token lives. Pure: no framework."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlsplit

# "Log in with mayknow" always yields the public profile; it needs no consent beyond
# the member's own act of logging in to the partner.
PROFILE = "profile"
PUBLIC_PROFILE_FIELDS = ("sub", "nickname", "avatar")

_PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
NAME_MAX = 100


class Category(StrEnum):
    """What a partner may receive beyond the public profile, each under its own grant."""

    MATCHED_CONTACTS = "matched_contacts"


SCOPES = (PROFILE, *(c.value for c in Category))


class InvalidPartner(ValueError):
    pass


def pairwise_subject(partner_key: bytes, user_id: int) -> str:
    """The member's identifier for one partner (OpenID Connect's pairwise ``sub``): stable
    for that partner, different for every other, so two partners cannot join their users
    on it, and it says nothing of mayknow's own account id."""
    mac = hmac.digest(partner_key, b"mayknow-sub:%d" % user_id, hashlib.sha256)
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@dataclass(frozen=True)
class Lifetimes:
    """How long an authorization code and an access token live (settings: see config)."""

    code: timedelta
    token: timedelta


@dataclass(frozen=True)
class PartnerInfo:
    id: str
    name: str
    redirect_uris: tuple[str, ...]
    categories: frozenset[str]


def check_partner(
    partner_id: str, name: str, redirect_uris: Iterable[str], categories: Iterable[str]
) -> PartnerInfo:
    """A partner as registered: a short id, a name, exact redirect URIs, known categories."""
    if not _PARTNER_ID.match(partner_id):
        raise InvalidPartner("The id is 2-64 characters of a-z, 0-9, '.', '_' or '-'.")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidPartner(f"The name is 1-{NAME_MAX} characters.")
    uris = tuple(dict.fromkeys(redirect_uris))
    if not uris:
        raise InvalidPartner("A partner needs at least one redirect URI.")
    for uri in uris:
        check_redirect_uri(uri)
    wanted = set(categories)
    unknown = wanted - {c.value for c in Category}
    if unknown:
        raise InvalidPartner(f"Unknown category: {sorted(unknown)[0]}.")
    return PartnerInfo(partner_id, name, uris, frozenset(wanted))


def check_redirect_uri(uri: str) -> None:
    """https, http on loopback (RFC 8252 §7.3), or an app's private scheme (§7.1)."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise InvalidPartner("A redirect URI has no fragment.")
    if not _SCHEME.match(parts.scheme):
        raise InvalidPartner("A redirect URI is absolute.")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in {"127.0.0.1", "::1", "localhost"}:
        return
    if "." in parts.scheme:
        return  # a reverse-domain private-use scheme, e.g. com.example.app:/callback
    raise InvalidPartner(
        "A redirect URI is https, http on loopback, or a reverse-domain app scheme."
    )


def scope_list(scope: str | None) -> list[str]:
    return [s for s in (scope or "").split(" ") if s]


def allowed_scope(partner: PartnerInfo, scope: str | None) -> str | None:
    """The scope as granted to a request: the profile is implied; anything the partner
    was not registered for makes the request invalid (None)."""
    asked = scope_list(scope)
    if not set(asked) <= {PROFILE, *partner.categories}:
        return None
    return " ".join(s for s in SCOPES if s == PROFILE or s in asked)


def categories_of(scope: str | None) -> list[str]:
    """The categories beyond the public profile that a scope names, in a stable order."""
    asked = set(scope_list(scope))
    return [c.value for c in Category if c.value in asked]


def digest(secret: str) -> bytes:
    """Codes and tokens are kept only as their SHA-256."""
    return hashlib.sha256(secret.encode()).digest()
