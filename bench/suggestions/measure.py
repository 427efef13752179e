"""Run a contender in a child process and measure wall time, CPU time and peak memory."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

ROOT = Path(__file__).resolve().parents[2]
GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Measured:
    seconds: float  # the contender's own timer (excludes interpreter start-up)
    cpu: float  # user + system seconds of the whole process tree
    peak_gib: float  # largest resident set of the tree (sum over its processes)
    extra: dict[str, object] = field(default_factory=dict)


class TreePeak(threading.Thread):
    """Samples the summed RSS of a process and its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                total = sum(p.memory_info().rss for p in procs if p.is_running())
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self.done.wait(0.2)


def measure(name: str, follows: Path, out: Path, extra_args: list[str]) -> Measured:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "bench.suggestions.contender", name, str(follows), str(out)]
    command += extra_args
    timed = [GNU_TIME, "-v", *command] if Path(GNU_TIME).exists() else command
    started = time.perf_counter()
    process = subprocess.Popen(
        timed, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = TreePeak(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    sampler.done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{name} failed ({process.returncode}):\n{stderr[-4000:]}")
    result = json.loads(next(ln for ln in stdout.splitlines() if ln.startswith("RESULT "))[7:])
    gnu = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", stderr)
    cpu = float(user.group(1)) + float(system.group(1)) if user and system else 0.0
    peak = max(sampler.peak, int(gnu.group(1)) * 1024 if gnu else 0)
    result["wall_with_startup"] = time.perf_counter() - started
    return Measured(float(result["seconds"]), cpu, peak / 2**30, result)


def _rows(folder: Path) -> pa.Table:
    table = pads.dataset(folder, format="parquet").to_table()
    schema = pa.schema([pa.field(f.name, pa.int64()) for f in table.schema])
    key = [("viewer_id", "ascending"), ("candidate_id", "ascending")]
    return table.cast(schema).replace_schema_metadata(None).sort_by(key)


def agree(reference: Path, other: Path, *, subset: bool = False, exact: bool = False) -> bool:
    """Same (viewer, candidate, score) rows; `exact`: every column; `subset`: only the
    viewers that `other` computed."""
    ref, got = _rows(reference), _rows(other)
    if exact:
        return bool(ref.equals(got))
    columns = ["viewer_id", "candidate_id", "score"]
    ref, got = ref.select(columns), got.select(columns)
    if subset:
        viewers = pa.array(sorted(set(got.column("viewer_id").to_pylist())), pa.int64())
        mask = pc.is_in(ref.column("viewer_id"), value_set=viewers)
        ref = ref.filter(mask)
    return bool(ref.equals(got))
