"""The newcomer study ranks as the service does and respects every consent."""

from __future__ import annotations

import numpy as np
import pytest
from bench.population import build
from bench.quality.newcomers import MIXES, StudyParams, study
from bench.quality.world import Consents, World

from mayknow.suggestions.domain import Kind, Reason, Weights

EVERY = frozenset(Kind)
IDS = np.array([5040, 4030, 3020, 2010], dtype=np.int64)  # member index -> account id


def world() -> World:
    """Member 0 has 1 in their book and is in 2's book; 3 follows 0; 0 follows 2."""
    fof = {0: [(int(IDS[3]), Reason(Kind.MUTUAL_CONNECTIONS, 1, (int(IDS[2]),), 10**9))]}
    return World(
        ids=IDS,
        book={0: [1], 2: [0]},
        holders={1: [0], 0: [2]},
        following={0: {2}},
        fans={0: {3}},
        fof=fof,
    )


def consents(**off: list[int]) -> Consents:
    """Everyone grants everything, except the members listed per purpose."""
    names = (
        "contacts_upload",
        "discoverable_by_phone",
        "suggest_me_to_my_contacts",
        "suggest_from_others_contacts",
    )
    granted = {n: np.ones(4, dtype=bool) for n in names}
    for name, members in off.items():
        if name != "recommend_off":
            granted[name][members] = False
    recommend_off = np.zeros(4, dtype=bool)
    recommend_off[off.get("recommend_off", [])] = True
    return Consents(**granted, recommend_off=recommend_off)


def reasons(w: World, c: Consents) -> dict[int, set[Kind]]:
    ranked = w.ranked(0, c, EVERY, Weights())
    return {w.index[x.user_id]: {r.kind for r in x.reasons} for x in ranked}


def test_with_every_consent_granted_each_source_gives_its_reason() -> None:
    assert reasons(world(), consents()) == {
        1: {Kind.IN_YOUR_CONTACTS},
        3: {Kind.FOLLOWS_YOU, Kind.MUTUAL_CONNECTIONS},
    }  # 2 holds 0 in its book but 0 already follows 2


@pytest.mark.parametrize(
    "off", [{"contacts_upload": [0]}, {"discoverable_by_phone": [1]}], ids=["viewer", "contact"]
)
def test_in_your_contacts_needs_the_viewers_upload_and_the_contacts_discoverability(
    off: dict[str, list[int]],
) -> None:
    assert 1 not in reasons(world(), consents(**off))


@pytest.mark.parametrize(
    "off",
    [
        {"suggest_from_others_contacts": [0]},
        {"suggest_me_to_my_contacts": [2]},
        {"contacts_upload": [2]},
        {"discoverable_by_phone": [0]},
    ],
    ids=["viewer-asks", "uploader-agrees", "uploader-uploads", "viewer-discoverable"],
)
def test_has_you_in_contacts_needs_both_consents_and_a_stored_link(
    off: dict[str, list[int]],
) -> None:
    w = world()
    unfollowed = World(w.ids, w.book, w.holders, {}, w.fans, w.fof)
    assert Kind.HAS_YOU_IN_CONTACTS in reasons(unfollowed, consents())[2]
    assert 2 not in reasons(unfollowed, consents(**off))


def test_recommend_me_to_others_off_excludes_the_candidate_whatever_the_source() -> None:
    assert set(reasons(world(), consents(recommend_off=[3]))) == {1}


def test_the_ranking_is_the_domains_points_then_account_id() -> None:
    ranked = world().ranked(0, consents(), EVERY, Weights())
    # 3: follows_you 60 + mutual 20 * 1.0 = 80 points; 1: in_your_contacts 100 points
    assert [world().index[c.user_id] for c in ranked] == [1, 3]


def test_with_consent_rates_at_zero_the_contact_sources_contribute_nothing() -> None:
    population = build(1200, seed=5)
    result = study(population, StudyParams(newcomers=60, rates=(0.0, 1.0), recommend_off=0.0))
    rows = {(r.mix, r.rate): r for r in result.rows}
    book_only, with_holders = MIXES[0][0], MIXES[1][0]
    for mix in (book_only, with_holders):
        assert rows[mix, 0.0].shown == 0.0
        assert rows[mix, 0.0].known == 0.0
        assert rows[mix, 1.0].known > 0.0  # the same newcomers, everything granted
    # at rate 0 the served list is what follows and friends of friends give alone
    served, follows_only = MIXES[3][0], MIXES[2][0]
    assert rows[served, 0.0].shown >= rows[follows_only, 0.0].shown
    assert rows[served, 1.0].known >= rows[served, 0.0].known
