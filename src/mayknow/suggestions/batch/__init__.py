"""The batch friend-of-friend job: `fof_candidates` from mutual follows, on DuckDB or Spark.

from mayknow.suggestions.batch import run_job
report = run_job("sqlite:///mayknow-data/mayknow.db", engine="duckdb")
"""

from __future__ import annotations

from mayknow.suggestions.batch.engines import EngineOptions
from mayknow.suggestions.batch.run import JobReport, compute_to, run_job

__all__ = ["EngineOptions", "JobReport", "compute_to", "run_job"]
