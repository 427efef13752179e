"""The declarative base every table derives from, and the personal-data declarations.

Every column says what it holds with ``info=personal(...)`` or ``info=NOT_PERSONAL``;
the records of processing are generated from these declarations, and a test fails
when a column says neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


@dataclass(frozen=True)
class PersonalData:
    """What a column holding personal data is, why it is kept, and for how long."""

    category: str
    purpose: str
    basis: str  # "contract", "legal_obligation" or "consent:<purpose>"
    retention: str
    visible_to: str = "the user"


PRIVACY_KEY = "privacy"
NOT_PERSONAL: dict[str, Any] = {PRIVACY_KEY: None}


def personal(
    category: str, purpose: str, basis: str, retention: str, visible_to: str = "the user"
) -> dict[str, Any]:
    return {PRIVACY_KEY: PersonalData(category, purpose, basis, retention, visible_to)}
