"""`mayknow eval` prints the table."""

from __future__ import annotations

from typer.testing import CliRunner

from mayknow.entrypoints.cli import app


def test_eval_on_the_karate_club_prints_a_markdown_table() -> None:
    result = CliRunner().invoke(app, ["eval", "--graph", "karate", "--splits", "2", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert (
        "| graph | nodes | edges | held out | method | Recall@10 | MRR (top 100) |" in result.output
    )
    for method in ("mayknow job (DuckDB)", "networkx adamic_adar_index", "random non-neighbour"):
        assert f"| karate | 34 | 78 | 10% x 2 splits = 16 edges | {method} |" in result.output
    assert "lesmis" not in result.output


def test_eval_refuses_an_unknown_graph() -> None:
    result = CliRunner().invoke(app, ["eval", "--graph", "population"])
    assert result.exit_code == 2
