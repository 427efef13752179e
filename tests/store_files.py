"""What a store holds on disk, and whether a SQLite writer is inside its transaction,
found out without opening a descriptor of SQLite's files in the test process
(and, on PostgreSQL, from its dump and pg_stat_activity).

POSIX advisory locks belong to a process and a file, and closing *any* descriptor of the
file drops every one of them ("How To Corrupt An SQLite Database File", 2.2). The suite's
own SQLite connections hold such locks on the database and its ``-shm`` for as long as
they live. A test that read those files with open() and close() dropped them unseen; a
server process closing its last connection then took itself for the last user of the
file, checkpointed and removed the WAL that this process went on writing to, and the
next server found rows the suite had deleted. So the files are read by a child process
(cat), and the WAL write lock is looked up in /proc/locks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import Engine, make_url, text

WAL_WRITE_LOCK = 120  # SQLite's WAL index: the byte a writer locks until it commits


def store_bytes(engine: Engine) -> bytes:
    """Everything the store holds on disk: SQLite's files, or PostgreSQL's dump."""
    if engine.dialect.name == "sqlite":
        base = Path(str(engine.url.database))
        files = [base, *(base.with_name(base.name + s) for s in ("-wal", "-shm"))]
        present = [str(p) for p in files if p.exists()]
        cat = shutil.which("cat")
        assert cat is not None, "cat (coreutils) reads the files in a child process"
        done = subprocess.run(
            [cat, *present], stdin=subprocess.DEVNULL, check=True, capture_output=True
        )
        return done.stdout
    dump = shutil.which("pg_dump") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))), None
    )
    assert dump is not None, "pg_dump is needed to look at a PostgreSQL store"
    libpq = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run(
        [str(dump), "--data-only", "--inserts", libpq], check=True, capture_output=True
    )
    return done.stdout


def lock_file_id(path: Path) -> str:
    """How /proc/locks names ``path``: device major:minor (hex) and inode."""
    found = os.stat(path)
    return f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino}"


def sqlite_writer_active(database_url: str) -> bool:
    """Does another process hold the WAL write lock (inside BEGIN IMMEDIATE ... COMMIT)?"""
    try:
        file_id = lock_file_id(Path(f"{make_url(database_url).database}-shm"))
    except FileNotFoundError:
        return False
    for line in Path("/proc/locks").read_text().splitlines():
        # "7: POSIX  ADVISORY  WRITE 4242 08:01:2409322 120 120"; "7: -> ..." waits for it
        fields = line.split()
        if len(fields) != 8 or fields[1] != "POSIX" or fields[3] != "WRITE":
            continue
        pid, where, start, end = fields[4], fields[5], int(fields[6]), fields[7]
        covers = start <= WAL_WRITE_LOCK and (end == "EOF" or int(end) >= WAL_WRITE_LOCK)
        if where == file_id and covers and int(pid) != os.getpid():
            return True
    return False


def pg_writer_active(engine: Engine, ignore: int = 0) -> bool:
    """Does another backend of this database hold a transaction id (it has written)?"""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
        "AND pid <> pg_backend_pid() AND pid <> :ignore AND datname = current_database()"
    )
    with engine.connect() as conn:
        return int(conn.execute(query, {"ignore": ignore}).scalar_one()) > 0
