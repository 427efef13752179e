"""The suite's way of looking at a SQLite store from outside leaves its own SQLite
connections' locks alone (see tests/store_files.py for the failure it prevents)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.store_files import lock_file_id, sqlite_writer_active, store_bytes

WRITER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
con.execute("CREATE TABLE held (x)")
con.execute("BEGIN IMMEDIATE")
con.execute("INSERT INTO held VALUES (1)")
print("inside", flush=True)
sys.stdin.readline()
con.execute("COMMIT")
print("committed", flush=True)
sys.stdin.readline()
"""


def _my_locks(path: Path) -> set[str]:
    """This process's POSIX locks on ``path``, as /proc/locks lists them."""
    where = lock_file_id(path)
    return {
        line.split(":", 1)[1]
        for line in Path("/proc/locks").read_text().splitlines()
        if f" {os.getpid()} {where} " in line
    }


@pytest.fixture
def sqlite_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's files and locks")
    return engine


def test_reading_the_store_keeps_this_process_s_sqlite_locks(sqlite_engine: Engine) -> None:
    shm = Path(f"{sqlite_engine.url.database}-shm")
    with sqlite_engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        held = _my_locks(shm)
        assert held, "an open WAL connection holds a lock on the -shm"
        assert b"SQLite format 3" in store_bytes(sqlite_engine)
        assert _my_locks(shm) == held


def test_the_wal_write_lock_of_another_process_is_seen_while_it_lasts(tmp_path: Path) -> None:
    database = tmp_path / "held.db"
    url = f"sqlite:///{database}"
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:  # leaving closes its stdin: the writer reads an end of file and exits
        assert writer.stdin is not None
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "inside"
        assert sqlite_writer_active(url)
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "committed"
        assert not sqlite_writer_active(url)
