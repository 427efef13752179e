"""The plaintiff's day, step by step, through the public HTTP API only.

Twenty members have the newcomer's number in their address books (saved as 凌为君, 胡子,
大饼...; those names never leave their phones), ten others do not; two of the twenty
follow him. He signs up from Chengdu with an address book holding only his own number,
opens the follow tab, and then grants each consent in turn. At each step the replay
records what he is shown, what the server holds about him (read through his export and
the operator recall, never from tables) and checks the holdings H1-H14.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from mayknow.replay.server import Server

NEWCOMER = "+8613900000000"
SAVED_AS = [
    "凌为君",
    "胡子",
    "大饼",
    "老凌",
    "小凌",
    "凌哥",
    "阿君",
    "君君",
    "凌老师",
    "凌总",
    "同学凌",
    "凌(公司)",
    "凌-成都",
    "大凌",
    "凌某某",
    "凌先生",
    "凌·朋友",
    "凌二",
    "凌三",
    "凌工",
]
AGREE_TO_BE_SUGGESTED = 12  # of the twenty uploaders, these allow suggest_me_to_my_contacts
FANS = 2
REASON = "replay: user complaint 2019-02-09 about 可能认识的人"
PARTNER = "duoshan"
PARTNER_REDIRECT = "http://127.0.0.1/duoshan/callback"

DOUYIN = {
    "H1": "Kept numbers with the names others saved them under; no inventory.",
    "H2": "Kept every uploaded entry, members and non-members, encrypted but kept.",
    "H3": "Registration with his number was the only consent recorded.",
    "H4": "Showed 20 people from others' address books at once, unasked.",
    "H5": "Gave him no view of the entries that held his number.",
    "H6": "Showed a 'may know' list (lawful as such).",
    "H7": "Showed 推荐|成都 before the location pop-up.",
    "H8": "Did not prove it read his (empty) address book.",
    "H9": "Sharing with 多闪 was alleged, not proven.",
    "H10": "Back office answered 'why' for any pair, unlogged.",
    "H11": "Pre-ticked 'agree'; a pop-up that dismissed itself.",
    "H12": "Cookies valid for 10 years.",
    "H13": "Ordered to delete; no proof of deletion.",
    "H14": "No double consent on address-book entries.",
}


@dataclass
class Check:
    holding: str
    what: str
    passed: bool

    @property
    def douyin(self) -> str:
        return DOUYIN[self.holding]


@dataclass
class Step:
    title: str
    shown: str = ""
    held: str = ""
    checks: list[Check] = field(default_factory=list)


@dataclass
class Member:
    user_id: int
    token: str
    phone: str
    nickname: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Scene:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        self.steps: list[Step] = []
        self.version = ""
        self.cookie = ""

    # -- small verbs -----------------------------------------------------------------
    def _ok(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise RuntimeError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else None

    def sign_up(self, nickname: str, phone: str, headers: dict[str, str] | None = None) -> Member:
        self._ok(self.http.post("/v1/auth/code", json={"phone": phone}, headers=headers))
        code = self._ok(self.http.get("/v1/dev/outbox", params={"phone": phone}))["code"]
        response = self.http.post(
            "/v1/auth/register",
            headers=headers,
            json={
                "phone": phone,
                "code": code,
                "nickname": nickname,
                "accept_policy_version": self.version,
            },
        )
        body = self._ok(response)
        self.cookie = response.headers.get("set-cookie", "")
        self.http.cookies.clear()
        return Member(body["user_id"], body["token"], phone, nickname)

    def grant(
        self,
        member: Member,
        purpose: str,
        granted: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._ok(
            self.http.put(
                f"/v1/me/consents/{purpose}",
                json={"granted": granted},
                headers={**member.auth, **(headers or {})},
            )
        )

    def sync(self, member: Member, phones: list[str]) -> Any:
        return self._ok(
            self.http.post("/v1/contacts/sync", json={"phones": phones}, headers=member.auth)
        )

    def suggestions(self, member: Member) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._ok(
            self.http.get("/v1/suggestions", params={"limit": 100}, headers=member.auth)
        )["suggestions"]
        return found

    def me(self, member: Member, headers: dict[str, str]) -> Any:
        return self._ok(self.http.get("/v1/me", headers={**member.auth, **headers}))

    def export(self, member: Member) -> Any:
        return self._ok(self.http.get("/v1/me/export", headers=member.auth))

    def recall(
        self, operator: Member, viewer: int, candidate: int, reason: str | None = REASON
    ) -> httpx.Response:
        params: dict[str, Any] = {"viewer": viewer, "candidate": candidate}
        if reason is not None:
            params["reason"] = reason
        return self.http.get("/v1/admin/recall", params=params, headers=operator.auth)


def kinds(suggestions: list[dict[str, Any]]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for suggestion in suggestions:
        for reason in suggestion["reasons"]:
            counted[reason["kind"]] = counted.get(reason["kind"], 0) + 1
    return counted


def pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def cookie_attributes(header: str) -> dict[str, Any]:
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    morsel = jar["mayknow_session"]
    return {
        "httponly": bool(morsel["httponly"]),
        "samesite": morsel["samesite"],
        "max_age": int(morsel["max-age"] or 0),
        "domain": morsel["domain"],
    }


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
