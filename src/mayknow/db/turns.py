"""Writers of one SQLite file take turns in the order they asked.

SQLite lets one transaction write at a time. A writer that finds the file locked sleeps in
SQLite's busy handler (1, 2, 5 … then 100 ms at a time) and asks again; with another
process writing again and again it could lose for seconds (bench/contacts, two address
books synced at once on 2 workers: p99 about 1 s for a 30 ms request). Instead each writer
first takes an exclusive ``flock`` on ``<database>-writer``, which the kernel hands to the
next waiter the moment it is let go, and only then begins. Each thread has its own open
file, so threads of one process queue as processes do.

Advisory: a program that writes without it (the sqlite3 shell) is still serialised by
SQLite itself, only without the queue.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriterTurns:
    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + "-writer")
        self._local = threading.local()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this thread's turn to write; give it up when the block ends."""
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            if getattr(local, "fd", None) is None:
                local.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(local.fd, fcntl.LOCK_EX)  # the GIL is let go while it waits
        local.depth = depth + 1
        try:
            yield
        finally:
            local.depth = depth
            if depth == 0:
                fcntl.flock(local.fd, fcntl.LOCK_UN)
