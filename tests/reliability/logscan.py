"""What a log line must never hold: a phone number in any format, a session token, a
request body. Used by test_logs.py on every line of the run and on the servers' logs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Chinese mobile numbers: +86 / 86 / none, then 1[3-9] and nine more digits, with or
# without spaces or dashes between digits: +8613900001234, 8613900001234, 13900001234,
# +86 139 0000 1234, 139-0000-1234. A masked number (+86 139****1234) is not one.
CN_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# Any E.164 number: + and 8 to 15 digits.
E164 = re.compile(r"\+[1-9]\d{7,14}(?!\d)")
# A session token is token_urlsafe(32): 43 characters of [A-Za-z0-9_-]; a partner token
# is 48 alphanumerics. A run of 40 to 64 such characters with upper and lower case and a
# digit looks like one even when no fixture issued it (snake_case names and hex never do).
TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,64}(?![A-Za-z0-9_-])")
BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}|mayknow_session=[^\s;]{16,}")
# The tests' own HTTP clients (httpx, httpcore) log, at DEBUG, the URLs they request and
# the headers they receive, a login's Set-Cookie among them: that is the test's traffic,
# not something the service logged. Their lines are checked for numbers and bodies with
# the URL blanked, not for the session tokens the service legitimately sent them.
CLIENT_REQUEST = re.compile(r"(HTTP Request: [A-Z]+ )\S+")
CLIENT_LOGGERS = ("httpx", "httpcore")


@dataclass(frozen=True)
class Finding:
    where: str
    what: str
    line: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}: {self.line[:300]!r}"


def body_fields(openapi: dict[str, Any]) -> set[str]:
    """The names of every field of every request body of the API."""
    components = openapi.get("components", {}).get("schemas", {})
    names: set[str] = set()
    seen: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            ref = str(node.get("$ref", "")).rsplit("/", 1)[-1]
            if ref and ref not in seen:
                seen.add(ref)
                visit(components.get(ref, {}))
            names.update(node.get("properties", {}))
            for value in node.values():
                visit(value)

    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            visit(operation.get("requestBody", {}))
    return names


class Scanner:
    def __init__(self, tokens: set[str], fields: Iterable[str]) -> None:
        self.tokens = tokens
        names = "|".join(sorted(re.escape(f) for f in fields))
        # A body as JSON or a Python dict ("phones": [...], 'code': '1'), or form-encoded
        # with two fields or more (phone=...&code=...).
        self.body = re.compile(
            rf"""["'](?:{names})["']\s*:|(?<![\w/])(?:{names})=[^&\s]*&(?:{names})="""
        )

    def line(self, where: str, logger: str, text: str) -> list[Finding]:
        client = logger.startswith(CLIENT_LOGGERS)
        if client:
            text = CLIENT_REQUEST.sub(r"\1(the test's own URL)", text)
        found = []
        if CN_MOBILE.search(text) or E164.search(text):
            found.append(Finding(where, "a phone number", text))
        if self.body.search(text):
            found.append(Finding(where, "a request body", text))
        if client:
            return found
        if BEARER.search(text):
            found.append(Finding(where, "a bearer token or session cookie", text))
        for candidate in TOKEN_SHAPED.findall(text):
            issued = candidate in self.tokens
            shaped = all(re.search(c, candidate) for c in ("[A-Z]", "[a-z]", "[0-9]"))
            if issued or shaped:
                found.append(Finding(where, "a session token", text))
        return found

    def lines(self, where: str, lines: Iterable[tuple[str, str]]) -> list[Finding]:
        return [f for logger, text in lines for f in self.line(where, logger, text)]
