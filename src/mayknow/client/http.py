"""The client: plain sync with quota tokens, and private sync."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mayknow.contacts.cuckoo import CuckooFilter, tag_of
from mayknow.contacts.domain import parse_book
from mayknow.identity import oprf
from mayknow.identity.phone import parse_mobile

CHUNK = 10_000


class Transport(Protocol):
    """What the client needs of an HTTP client: httpx.Client and Starlette's TestClient fit."""

    def get(self, url: str, **kwargs: Any) -> Any: ...

    def post(self, url: str, **kwargs: Any) -> Any: ...


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        super().__init__(f"{status} {error.get('code', '')}: {error.get('message', '')}")
        self.status, self.code = status, error.get("code")


@dataclass
class QuotaState:
    """What the client keeps between syncs: its secret and the set it last synced."""

    secret: str = field(
        default_factory=lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )
    previous: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"secret": self.secret, "previous": self.previous})

    @classmethod
    def from_json(cls, text: str) -> QuotaState:
        raw = json.loads(text)
        return cls(secret=raw["secret"], previous=list(raw["previous"]))


class Client:
    def __init__(self, http: Transport, token: str, region: str = "CN") -> None:
        self.http, self.region = http, region
        self.headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = getattr(self.http, method)(path, headers=self.headers, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json())
        return response

    def sync(self, phones: Sequence[str], quota: QuotaState | None = None) -> dict[str, Any]:
        """Plain sync of the whole book. With ``quota``, numbers synced last time are free."""
        body: dict[str, Any] = {"phones": list(phones)}
        if quota is not None:
            body["quota"] = {"secret": quota.secret, "previous": quota.previous}
        result: dict[str, Any] = self._call("post", "/v1/contacts/sync", json=body).json()
        if quota is not None:
            quota.previous = list(phones)
        return result

    def private_sync(self, phones: Sequence[str], replace: bool = True) -> dict[str, Any]:
        """Find the discoverable members among ``phones``; the server sees no number.

        Answers like ``sync``: ``matched`` indexes point into ``phones``; ``invalid`` lists
        the entries that are not mobile numbers (found on the device, never sent).
        """
        book = parse_book(phones, lambda raw: parse_mobile(raw, self.region), own=None)
        numbers = [(index, e164) for e164, index in book.numbers.items()]
        cuckoo = CuckooFilter.from_bytes(self._call("get", "/v1/contacts/private/filter").content)
        outputs = self._outputs([e164 for _, e164 in numbers])
        hits = [
            (index, out)
            for (index, _), out in zip(numbers, outputs, strict=True)
            if tag_of(out) in cuckoo
        ]
        report = self._call(
            "post",
            "/v1/contacts/private/report",
            json={
                "outputs": [base64.b64encode(out).decode() for _, out in hits],
                "replace": replace,
            },
        ).json()
        matched = [{**m, "index": hits[m["index"]][0]} for m in report["matched"]]
        return {
            "matched": matched,
            "invalid": book.invalid,
            "removed": report["removed"],
            "discarded": len(numbers) - len(matched),
        }

    def _outputs(self, numbers: list[str]) -> list[bytes]:
        outputs: list[bytes] = []
        for start in range(0, len(numbers), CHUNK):
            chunk = numbers[start : start + CHUNK]
            blinded = [oprf.blind(n.encode()) for n in chunk]
            response = self._call(
                "post",
                "/v1/contacts/private/evaluate",
                json={"elements": [base64.b64encode(element).decode() for _, element in blinded]},
            )
            evaluated = [base64.b64decode(e) for e in response.json()["evaluated"]]
            outputs += [
                oprf.finalize(number.encode(), blind, answer)
                for number, (blind, _), answer in zip(chunk, blinded, evaluated, strict=True)
            ]
        return outputs
