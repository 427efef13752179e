"""How good are the suggestions? Link prediction on held-out edges (``mayknow eval``).

from mayknow.suggestions.quality import evaluate, real_graph
report = evaluate(real_graph("karate"), name="karate", holdout=0.1, seed=0, splits=20)
"""

from __future__ import annotations

from mayknow.suggestions.quality.evaluate import (
    METHODS,
    REAL_GRAPHS,
    Evaluation,
    as_int_graph,
    evaluate,
    markdown,
    real_graph,
)
from mayknow.suggestions.quality.holdout import Split, hold_out
from mayknow.suggestions.quality.metrics import DEPTH, K, Tally, reciprocal_rank, tally

__all__ = [
    "DEPTH",
    "METHODS",
    "REAL_GRAPHS",
    "Evaluation",
    "K",
    "Split",
    "Tally",
    "as_int_graph",
    "evaluate",
    "hold_out",
    "markdown",
    "real_graph",
    "reciprocal_rank",
    "tally",
]
