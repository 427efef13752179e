"""SQLite writers queue on a file lock: a second writer waits while the first holds its
turn and goes the moment it is let go; a writer that nests a write keeps its turn."""

from __future__ import annotations

import threading
from pathlib import Path

from mayknow.db.turns import WriterTurns


def test_a_second_writer_waits_for_the_first_and_then_goes(tmp_path: Path) -> None:
    turns = WriterTurns(tmp_path / "mayknow.db")
    order: list[str] = []
    entered = threading.Event()

    def second() -> None:
        with turns.turn():
            order.append("second")
            entered.set()

    with turns.turn():
        waiter = threading.Thread(target=second)
        waiter.start()
        assert not entered.wait(0.2)  # still queued behind the first
        order.append("first done")
    assert entered.wait(5)
    waiter.join(5)
    assert order == ["first done", "second"]
    assert turns.path == tmp_path / "mayknow.db-writer"


def test_a_nested_write_keeps_the_turn_until_the_outer_one_ends(tmp_path: Path) -> None:
    turns = WriterTurns(tmp_path / "mayknow.db")
    other_got_in = threading.Event()

    def other() -> None:
        with turns.turn():
            other_got_in.set()

    with turns.turn():
        with turns.turn():
            pass
        waiter = threading.Thread(target=other)
        waiter.start()
        assert not other_got_in.wait(0.2)  # the inner block's end did not let it go
    assert other_got_in.wait(5)
    waiter.join(5)
