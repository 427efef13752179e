"""Shared by the contact-discovery benchmarks: fictional numbers, books, statistics, machine.

Numbers. Every number here is fictional and generated, never real data:

- member k (0 <= k < N) is ``+86 139 dddd dddd`` with the 8 digits ``(k * MUL + OFF) mod 10**8``,
  a bijection of [0, 10**8), so the members are spread over the whole 139 block and any
  139 number says whether it is a member (``member_index(d) < N``) without a table;
- uploader j is ``+86 137 0000 jjjj`` (j < 10,000): registered, never discoverable;
- a non-member is a random 139 number whose index is >= N (never registered).

A book is 1,000 distinct numbers, 30% members and 70% non-members, in random order, written
the ways phones store them (``+86 139 1234 5678``, ``139 1234 5678``, ``13912345678``).
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import machine as host

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
LOOPBACK = "127.0.0.1"
DEFAULT_CACHE = Path("/tmp/mayknow-bench")  # noqa: S108 - the brief's default; --cache-dir

SPACE = 10**8
MUL = 61_803_399  # odd and not a multiple of 5: invertible modulo 10**8
OFF = 31_415_926
INV = pow(MUL, -1, SPACE)
MAX_ACCOUNTS = 50_000_000  # keeps at least half of the 139 block free for non-members
MAX_UPLOADERS = 10_000

BOOK_SIZE = 1000
MEMBER_SHARE = 0.3


def member_national(k: int) -> int:
    return (k * MUL + OFF) % SPACE


def member_index(national: int) -> int:
    """The k with member_national(k) == national (a member iff k < N)."""
    return ((national - OFF) * INV) % SPACE


def member_e164(k: int) -> str:
    return f"+86139{member_national(k):08d}"


def uploader_e164(j: int) -> str:
    if not 0 <= j < MAX_UPLOADERS:
        raise ValueError(f"at most {MAX_UPLOADERS} uploaders")
    return f"+86137{j:08d}"


def written(national: int, style: int) -> str:
    """A 139 number as a phone's address book might hold it."""
    d = f"{national:08d}"
    if style == 0:
        return f"+86 139 {d[:4]} {d[4:]}"
    if style == 1:
        return f"139 {d[:4]} {d[4:]}"
    return f"139{d}"


@dataclass(frozen=True)
class Book:
    raw: list[str]  # as sent, in random order
    e164: list[str]  # the same numbers in E.164, same order
    members: int  # distinct members among them (= expected matches)


def make_book(
    rng: random.Random, accounts: int, size: int = BOOK_SIZE, share: float = MEMBER_SHARE
) -> Book:
    """A fresh random book: round(size * share) members of [0, accounts), the rest non-members."""
    if not 0 < accounts <= MAX_ACCOUNTS:
        raise ValueError(f"accounts must be in 1..{MAX_ACCOUNTS}")
    want_members = min(accounts, round(size * share))
    chosen = {member_national(k) for k in rng.sample(range(accounts), want_members)}
    others: set[int] = set()
    for _ in range(100 * size):  # bounded: at least half of all draws are non-members
        if len(others) == size - want_members:
            break
        d = rng.randrange(SPACE)
        if member_index(d) >= accounts and d not in chosen:
            others.add(d)
    else:
        raise RuntimeError("could not draw enough non-members")
    nationals = list(chosen) + list(others)
    rng.shuffle(nationals)
    raw = [written(d, rng.randrange(3)) for d in nationals]
    return Book(raw, [f"+86139{d:08d}" for d in nationals], len(chosen))


# -- statistics ------------------------------------------------------------------------------
def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-int(q * len(sorted_values)) // 100))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values_ms)
    return {
        "n": len(ordered),
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else float("nan"),
        "mean": sum(ordered) / len(ordered) if ordered else float("nan"),
    }


def fmt_ms(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def ratio(value: float) -> str:
    """A ratio with sensible precision: 0.42×, 3.1×, 250×."""
    if value != value:  # NaN
        return "n/a"
    if value < 10:
        return f"{value:.2g}×"
    return f"{value:,.0f}×"


def human(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1000)):
        if n >= size and n % (size // 10 or 1) == 0:
            return f"{n / size:g}{unit}"
    return f"{n:,}"


def table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- processes -------------------------------------------------------------------------------
def rss_bytes(pid: int) -> int:
    """Resident set size of one process (VmRSS), 0 if it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def deadline(seconds: float, what: str) -> Iterator[float]:
    """Yields the monotonic deadline; raises if the block overran it (checked at the end)."""
    end = time.monotonic() + seconds
    yield end
    if time.monotonic() > end:
        raise TimeoutError(f"{what} took longer than {seconds:.0f} s")


def machine() -> dict[str, str]:
    return {
        "nproc": str(os.cpu_count()),
        "cpu": host.cpu_model(),
        "memory": host.memory(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "sqlite": sqlite3.sqlite_version,
        "libs": host.libraries(("sqlalchemy", "psycopg", "fastapi", "uvicorn", "pynacl")),
        "commit": host.commit(),
    }


def busy_cores(seconds: float = 2.0) -> float:
    """Cores busy on the whole machine over ``seconds`` (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        total = sum(fields[:8])
        return total - fields[3] - fields[4], total

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (os.cpu_count() or 1) * (busy1 - busy0) / max(1, total1 - total0)


def venv_with(
    venv: Path, packages: Sequence[str], modules: str, say: Callable[[str], None]
) -> Path:
    """The python of a venv of its own for a contender (sydent, OpenMined PSI): created and
    filled with pip if ``import <modules>`` fails in it."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", f"import {modules}"]
    if (
        python.exists()
        and subprocess.run(probe, capture_output=True, timeout=120, check=False).returncode == 0
    ):
        return python
    say(f"installing {' '.join(packages)} into {venv} ...")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *packages], check=True, timeout=1200
    )
    subprocess.run(probe, check=True, timeout=120)
    return python
