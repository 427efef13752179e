"""Fictional members made through the services (faster than the HTTP sign-up): the same
code, registration and consent paths the API takes, minus the HTTP round trips."""

from __future__ import annotations

from collections.abc import Iterable

from mayknow.bootstrap import Container
from mayknow.consent.domain import Purpose
from tests.conftest import LOG_CAPTURE, Member

ADDRESS = "127.0.0.1"


def fictional(block: str, index: int) -> str:
    """+86 139/137 test numbers: ``block`` is 3 digits after the 13x prefix."""
    return f"+86{block}{index:08d}"


def enrol(
    container: Container, phone: str, nickname: str = "测试", address: str = ADDRESS
) -> Member:
    """Register ``phone`` as a member with a code from the outbox; answer its session."""
    outbox = container.outbox
    assert outbox is not None, "enrolment reads codes from the development outbox"
    container.accounts.request_code(phone, address)
    code = outbox.last_code(container.accounts.parse_phone(phone))
    version = container.consent.policy_version
    signed = container.accounts.register(phone, code, nickname, version, address, channel="api")
    LOG_CAPTURE.tokens.add(signed.session.token)
    return Member(signed.user_id, signed.session.token, phone)


def grant(container: Container, member: Member, purposes: Iterable[str]) -> None:
    principal = container.accounts.authenticate(member.token)
    assert principal is not None
    for purpose in purposes:
        container.consent.change(
            member.user_id, principal.subject_ref, Purpose(purpose), True, channel="api"
        )
