"""Enumeration: K verified accounts try to map a block of numbers for three simulated
days through the plain sync, private evaluation and the code endpoint, under the
production limits. They learn the members who agreed to be found, no more than the
documented quotas allow, nobody who did not agree, and nothing at all from codes.

A small version (quota scaled down so that it binds within a 20,000-number block);
``python -m tests.reliability.enumeration`` runs the documented figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mayknow import config
from mayknow.entrypoints.api.app import create_app
from tests.reliability.enumeration import Attack, Plan, ceiling, table

PLAN = Plan(accounts=5, block=20_000, days=3, code_days=1, member_every=500, hidden_every=1000)


@pytest.mark.slow
def test_k_accounts_learn_no_more_than_the_quotas_allow_and_only_findable_members(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    settings = config.Settings(
        data_dir=tmp_path / "data", db=database_url, dev=False, discovery_quota_capacity=2_000
    )
    attack = Attack(PLAN, settings, engine)
    with TestClient(create_app(attack.container)) as http:
        days = attack.run(http)
    print(table(settings, PLAN, days))
    for mode in ("sync", "private", "code"):
        mine = [d for d in days if d.mode == mode]
        for day in mine:
            so_far = sum(d.tested for d in mine if d.day <= day.day)
            assert so_far <= ceiling(settings, PLAN, mode, day.day), day
            assert day.wrong == 0, day  # no hidden member, no stranger taken for a member
        tested = sum(d.tested for d in mine)
        findable = len(range(0, tested, PLAN.member_every))
        expected = 0 if mode == "code" else findable
        assert sum(d.learned for d in mine) == expected, mode
    first, second = (d for d in days if d.mode == "sync" and d.day in (1, 2))
    assert first.tested == PLAN.accounts * 2_000  # the whole quota, at once...
    assert second.tested == PLAN.accounts * 24 * 6  # ...then 6 an hour each
