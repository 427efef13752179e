"""The newcomer study's in-memory ranking (bench/quality/world.py) is the service's:
a small population is loaded into a real store, the job fills fof_candidates, and every
newcomer's list from SuggestionService equals World.ranked's, reasons included."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from bench.population import Population, build
from bench.population.load import load
from bench.population.people import PURPOSES
from bench.quality.newcomers import StudyParams, build_world, trim_newcomers
from bench.quality.world import Consents

from mayknow import bootstrap
from mayknow.suggestions.domain import Kind
from mayknow.suggestions.jobs import refresh_friends_of_friends


def test_world_ranks_every_newcomer_exactly_as_the_service(
    container: bootstrap.Container,
) -> None:
    population = build(400, seed=9)
    newcomers, follows = trim_newcomers(population, StudyParams(newcomers=40, seed=3))
    joined = Population(
        replace(population.graph, follows=follows),
        population.users,
        population.books,
        population.shape,
    )
    settings = container.settings
    load(joined, settings.database_url, settings.data_dir)
    refresh_friends_of_friends(
        container.engine, clock=container.clock, degree_cap=settings.fof_degree_cap
    )
    world = build_world(joined, newcomers, follows)
    users = population.users
    recommend_off = np.arange(users.num_rows) % 10 == 3
    for member in np.flatnonzero(recommend_off).tolist():
        uid = int(population.ids[member])
        container.consent.update_settings(uid, f"test:{uid}", {"recommend_me_to_others": False})
    granted = {p: users.column(p).to_numpy(zero_copy_only=False) for p in PURPOSES}
    consents = Consents(**granted, recommend_off=recommend_off)
    weights = bootstrap.weights(settings)
    compared, kinds = 0, set()
    with container.uow.read() as session:
        for v in newcomers.tolist():
            served = container.suggestions.ranked_in(session, int(population.ids[v]))
            mine = world.ranked(v, consents, frozenset(Kind), weights)
            assert [(c.user_id, c.reasons) for c in mine] == [
                (c.user_id, c.reasons) for c in served
            ]
            compared += len(served)
            kinds |= {r.kind for c in served for r in c.reasons}
    assert compared > 100  # not vacuous: every source is among the lists compared
    assert kinds == {
        Kind.IN_YOUR_CONTACTS,
        Kind.HAS_YOU_IN_CONTACTS,
        Kind.FOLLOWS_YOU,
        Kind.MUTUAL_CONNECTIONS,
    }
