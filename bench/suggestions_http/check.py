"""Are the answers sane? Asked once per checked viewer, before any load.

Each answer must be 200 with a ``suggestions`` list (the contract in api.md): distinct
members other than the viewer, each with a nickname and at least one reason of a known
kind; ``mutual_connections`` with a positive count and its ``via`` members. Most viewers
(``MIN_NON_EMPTY``) must get at least one suggestion. Also: health answers, no token is
401, the development outbox does not exist (production mode).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.suggestions_http.viewers import Viewer

KINDS = {"in_your_contacts", "has_you_in_contacts", "follows_you", "mutual_connections"}
MIN_NON_EMPTY = 0.5  # "most viewers" get at least one suggestion


@dataclass
class Checked:
    viewers: int = 0
    non_empty: int = 0
    suggestions: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)  # one client, sequential

    @property
    def non_empty_share(self) -> float:
        return self.non_empty / self.viewers if self.viewers else 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.non_empty_share >= MIN_NON_EMPTY

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {n:,}" for k, n in self.reasons.most_common())
        lat = sorted(self.latencies_ms)
        p50 = lat[len(lat) // 2] if lat else float("nan")
        return (
            f"{self.viewers:,} viewers checked: {self.non_empty_share:.0%} with suggestions, "
            f"{self.suggestions / max(1, self.viewers):.1f} per viewer on average; reasons: "
            f"{kinds}; sequential p50 {p50:.1f} ms; problems: {len(self.problems)}"
        )


def _problems(viewer: int, body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("suggestions"), list):
        return [f"viewer {viewer}: no suggestions list"]
    out, seen = [], set()
    for s in body["suggestions"]:
        uid = s.get("user_id")
        if uid == viewer or uid in seen or not s.get("nickname"):
            out.append(f"viewer {viewer}: self, duplicate or unnamed suggestion")
        seen.add(uid)
        reasons = s.get("reasons") or []
        if not reasons or any(r.get("kind") not in KINDS for r in reasons):
            out.append(f"viewer {viewer}: a suggestion without a known reason")
        for r in reasons:
            if r.get("kind") == "mutual_connections" and not (
                int(r.get("count", 0)) >= 1 and r.get("via")
            ):
                out.append(f"viewer {viewer}: mutual_connections without count or via")
    return out


def check(base: str, viewers: list[Viewer]) -> Checked:
    result = Checked()
    with httpx.Client(base_url=base, timeout=30) as client:
        for path, expected in (("/v1/health", 200), ("/v1/suggestions", 401)):
            got = client.get(path).status_code
            if got != expected:
                result.problems.append(f"GET {path} without token: {got}, expected {expected}")
        if client.get("/v1/dev/outbox").status_code != 404:
            result.problems.append("GET /v1/dev/outbox exists: the server runs in --dev")
        for v in viewers:
            started = time.perf_counter()
            r = client.get("/v1/suggestions", headers={"Authorization": f"Bearer {v.token}"})
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.viewers += 1
            if r.status_code != 200:
                result.problems.append(f"viewer {v.user_id}: HTTP {r.status_code}")
                continue
            body = r.json()
            result.problems += _problems(v.user_id, body)
            shown = body.get("suggestions") or []
            result.non_empty += bool(shown)
            result.suggestions += len(shown)
            result.reasons.update(x["kind"] for s in shown for x in s.get("reasons", []))
    return result
