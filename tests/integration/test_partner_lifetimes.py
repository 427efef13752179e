"""Partner codes and tokens live as long as the settings say (a fake clock). The defaults,
60 seconds and 1 hour, are checked by test_partners.py; here both are changed."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from mayknow import config
from mayknow.bootstrap import Container
from mayknow.partners.models import PartnerCode, PartnerToken
from mayknow.shared.clock import FakeClock
from tests.conftest import People
from tests.integration.test_partners import (
    SISTER,
    SISTER_URI,
    _as_partner,
    _code,
    _count,
    _exchange,
    _pkce,
)

CODE_SECONDS = 20  # instead of 60
TOKEN_SECONDS = 600  # instead of 3600


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return dataclasses.replace(
        settings, partner_code_ttl_seconds=CODE_SECONDS, partner_token_ttl_seconds=TOKEN_SECONDS
    )


@pytest.fixture
def sister(container: Container) -> None:
    container.partners.add(SISTER, "多闪", [SISTER_URI], ["matched_contacts"])


def test_the_defaults_are_a_minute_for_a_code_and_an_hour_for_a_token() -> None:
    defaults = config.Settings()
    assert defaults.partner_code_ttl_seconds == 60
    assert defaults.partner_token_ttl_seconds == 3600


def test_a_code_lives_as_long_as_the_setting_says(
    people: People, client: TestClient, clock: FakeClock, sister: None
) -> None:
    ling = people.sign_up()
    in_time, late = _pkce(), _pkce()
    code = _code(client, ling, in_time)
    clock.advance(seconds=CODE_SECONDS - 1)
    assert _exchange(client, code, in_time).status_code == 200
    code = _code(client, ling, late)
    clock.advance(seconds=CODE_SECONDS + 1)  # well within the default 60 seconds
    refused = _exchange(client, code, late)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_a_token_lives_as_long_as_the_setting_says_and_is_purged_then(
    people: People, client: TestClient, container: Container, clock: FakeClock, sister: None
) -> None:
    ling = people.sign_up()
    pkce = _pkce()
    issued = _exchange(client, _code(client, ling, pkce), pkce)
    assert issued.json()["expires_in"] == TOKEN_SECONDS
    token = issued.json()["access_token"]
    clock.advance(seconds=TOKEN_SECONDS - 1)
    assert _as_partner(client, token, "me").status_code == 200
    assert container.retention.purge().get("partner_codes", 0) == 0  # the spent code waits
    clock.advance(seconds=2)  # well within the default hour
    assert _as_partner(client, token, "me").status_code == 401
    removed = container.retention.purge()
    assert (removed["partner_tokens"], removed.get("partner_codes", 0)) == (1, 0)
    clock.advance(seconds=CODE_SECONDS)  # the spent code: its lifetime past the token's
    assert container.retention.purge()["partner_codes"] == 1
    assert _count(container, PartnerToken) == _count(container, PartnerCode) == 0


@pytest.mark.parametrize("name", ["partner_code_ttl_seconds", "partner_token_ttl_seconds"])
def test_a_lifetime_under_a_second_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} must be at least 1"):
        config.load(None, {config.env_name(name): "0"})
