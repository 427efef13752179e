"""What can be consented to, and the state derived from the ledger. Pure: no framework."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Purpose(StrEnum):
    """Each optional use of personal data. All start not granted."""

    CONTACTS_UPLOAD = "contacts_upload"
    DISCOVERABLE_BY_PHONE = "discoverable_by_phone"
    SUGGEST_ME_TO_MY_CONTACTS = "suggest_me_to_my_contacts"
    SUGGEST_FROM_OTHERS_CONTACTS = "suggest_from_others_contacts"
    LOCATION_CITY = "location_city"
    SHARE_WITH_PARTNER_APPS = "share_with_partner_apps"


# Not a toggle: registering with one's own number and accepting the policy (H3).
ACCOUNT = "account"


class Setting(StrEnum):
    SUGGESTIONS_ENABLED = "suggestions_enabled"
    RECOMMEND_ME_TO_OTHERS = "recommend_me_to_others"
    SHOW_CITY_ON_PROFILE = "show_city_on_profile"


SETTING_DEFAULTS: dict[Setting, bool] = {
    Setting.SUGGESTIONS_ENABLED: True,
    Setting.RECOMMEND_ME_TO_OTHERS: True,
    Setting.SHOW_CITY_ON_PROFILE: False,
}


@dataclass(frozen=True)
class Choice:
    """One row of the ledger, as the domain sees it."""

    purpose: str
    granted: bool
    policy_version: str
    channel: str
    at: datetime


@dataclass(frozen=True)
class ConsentState:
    granted: bool
    at: datetime | None
    policy_version: str | None


NOT_GRANTED = ConsentState(granted=False, at=None, policy_version=None)


def current_state(history: Iterable[Choice]) -> dict[str, ConsentState]:
    """The latest choice per purpose wins; a purpose never chosen is not granted."""
    state = {p.value: NOT_GRANTED for p in Purpose}
    for choice in history:  # oldest first
        if choice.purpose in state:
            state[choice.purpose] = ConsentState(choice.granted, choice.at, choice.policy_version)
    return state


def accepted_policy_version(history: Iterable[Choice]) -> str | None:
    versions = [c.policy_version for c in history if c.purpose == ACCOUNT and c.granted]
    return versions[-1] if versions else None
