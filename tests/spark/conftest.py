"""Spark tests: skipped, with the reason, where pyspark or a Java runtime is missing."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

SPARK_MISSING = (
    "pyspark is not installed"
    if importlib.util.find_spec("pyspark") is None
    else "no java on PATH (Spark needs Java 17)"
    if shutil.which("java") is None
    else ""
)


def pytest_configure(config: pytest.Config) -> None:
    # py4j leaves its gateway sockets to the garbage collector after SparkSession.stop();
    # those ResourceWarnings come from py4j, not from the code under test.
    config.addinivalue_line("filterwarnings", "ignore:unclosed <socket.socket:ResourceWarning:py4j")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not SPARK_MISSING:
        return
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.skip(reason=SPARK_MISSING))
