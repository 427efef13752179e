"""Sending one-time codes: an interface, the development outbox and an HTTP webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from typing import Protocol

import httpx

from mayknow.identity.phone import mask

log = logging.getLogger("mayknow.sms")


class SmsUnavailable(RuntimeError):
    """The code could not be handed to the SMS provider."""


class SmsSender(Protocol):
    def send_code(self, e164: str, code: str) -> None: ...


class OutboxSender:
    """Development and tests: keeps the last code per number in memory.

    ``--dev`` exposes it as GET /v1/dev/outbox and also prints the code with the masked
    number to the console.
    """

    def __init__(self, echo: bool = False) -> None:
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()
        self._echo = echo

    def send_code(self, e164: str, code: str) -> None:
        with self._lock:
            self._last[e164] = code
        if self._echo:
            print(f"[dev sms] code {code} for {mask(e164)}", flush=True)

    def last_code(self, e164: str) -> str | None:
        with self._lock:
            return self._last.get(e164)


class WebhookSender:
    """POSTs {"to", "template", "code"} as JSON, signed with HMAC-SHA256 (docs/sms-webhook.md)."""

    def __init__(self, url: str, secret: str, client: httpx.Client | None = None) -> None:
        self._url = url
        self._secret = secret.encode()
        self._client = client or httpx.Client(timeout=5.0)

    def send_code(self, e164: str, code: str) -> None:
        body = json.dumps({"to": e164, "template": "login_code", "code": code}).encode()
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        try:
            response = self._client.post(
                self._url,
                content=body,
                headers={
                    "content-type": "application/json",
                    "x-mayknow-signature": f"sha256={signature}",
                },
            )
        except httpx.HTTPError as exc:
            log.warning("sms webhook unreachable: %s", type(exc).__name__)
            raise SmsUnavailable("The SMS provider cannot be reached.") from None
        if response.status_code >= 300:
            log.warning("sms webhook answered %s", response.status_code)
            raise SmsUnavailable("The SMS provider refused the message.")


class NoSender:
    """Outside development mode with no webhook configured: every send fails plainly."""

    def send_code(self, e164: str, code: str) -> None:  # noqa: ARG002
        raise SmsUnavailable("No SMS provider is configured.")
