"""How suggestions work: principles, sources, signals and their weights in plain words.

Generated from the same settings the ranking uses (the service's Weights and the
friend-of-friend cap), so the page cannot drift from what the code does. This is the
disclosure the court accepted in place of the algorithm (brief H10) and what art. 16 of
the 算法推荐管理规定 asks for: the basic principles, purpose and main mechanism.
"""

from __future__ import annotations

import math

from fastapi import Response

from mayknow.entrypoints.web.pages import Page
from mayknow.entrypoints.web.views import page_router
from mayknow.suggestions.domain import REASON_ORDER, Kind

router = page_router()


@router.get("/how")
def how_suggestions_work(web: Page) -> Response:
    weights = web.services.suggestions.weights
    per_friend = {n: round(weights.mutual_connections / math.log(n), 1) for n in (2, 10, 100)}
    return web.render(
        "how.html",
        weights=weights,
        kinds=REASON_ORDER,
        Kind=Kind,
        per_friend=per_friend,
        degree_cap=web.services.settings.fof_degree_cap,
        example=weights.in_your_contacts + weights.follows_you,
    )
