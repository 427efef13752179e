"""Records of processing come from the code, and the code cannot hold undeclared data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from mayknow.db.base import NOT_PERSONAL, personal
from mayknow.policy.texts import LANGUAGES, policy
from mayknow.rights import records
from mayknow.schema import metadata

ROOT = Path(__file__).resolve().parents[2]


def test_the_check_catches_a_column_without_a_declaration() -> None:
    sketch = MetaData()
    Table(
        "sketch",
        sketch,
        Column("id", Integer, primary_key=True, info=NOT_PERSONAL),
        Column("nickname", String, info=personal("nickname", "show", "contract", "forever")),
        Column("shoe_size", Integer),
    )
    assert records.undeclared(sketch) == ["sketch.shoe_size"]


def test_every_column_of_mayknow_is_declared() -> None:
    assert records.undeclared(metadata) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_policy_mentions_every_declared_consent_purpose(language: str) -> None:
    text = policy(language).full
    missing = [p for p in records.consent_purposes(metadata) if f"`{p}`" not in text]
    assert missing == []


def test_the_published_records_are_the_generated_ones() -> None:
    published = (ROOT / "docs" / "records-of-processing.md").read_text()
    assert published == records.markdown(metadata), (
        "run: mayknow records > docs/records-of-processing.md"
    )


def test_records_cover_every_table_that_holds_personal_data() -> None:
    tables = {r.table for r in records.records(metadata)}
    assert {"users", "contact_edges", "cities", "consent_events", "follows"} <= tables
    page = records.html_page(metadata)
    assert page.count("<tr>") == len(records.records(metadata)) + 1
