"""What a benchmark's result block says about the machine and the code it measured: CPU
model, memory, library versions, and the commit with any uncommitted changes. Shared by
bench/http, bench/contacts and bench/suggestions_http; also how they warm a store's file
cache."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def first_line(cmd: list[str]) -> str:
    """The first line a command prints, or "unknown"."""
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    return "unknown"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def memory() -> str:
    with contextlib.suppress(OSError, IndexError, ValueError):
        kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        return f"{kib / 2**20:.0f} GiB"
    return "unknown"


def libraries(names: Iterable[str]) -> str:
    return ", ".join(f"{name} {version(name)}" for name in names)


def commit() -> str:
    """The short commit, and how many paths (and of them in src/) differ from it."""
    head = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    head = head if len(head) < 20 else "none (no commit yet)"
    status = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    changed = status.splitlines()
    if not changed:
        return head
    in_src = sum(1 for line in changed if line[3:].startswith("src/"))
    return f"{head} + uncommitted changes ({len(changed)} paths, {in_src} in src/)"


def warm_file_cache(path: Path) -> float:
    """Read a file once, so that its pages are in the kernel's file cache; the seconds taken.

    A cold store (just copied, or evicted by other work) makes the first visit of each
    viewer wait on the disk, which is a property of the machine's recent past, not of the
    server: the runs measure a server whose working set is cached, and say so."""
    started = time.perf_counter()
    with path.open("rb") as f:
        while f.read(16 * 2**20):
            pass
    return time.perf_counter() - started


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime of these processes, from /proc (a process that is gone counts 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks
