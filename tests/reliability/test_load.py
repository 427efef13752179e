"""Load, briefly: five seconds of the mixed load of load.py against two workers in
production mode, on the suite's store; not one error. (The 60-second figures come from
running load.py itself; see docs/reliability.md.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.reliability.load import Report, drive, load_server

pytestmark = pytest.mark.slow


def test_five_seconds_of_mixed_load_on_two_workers_draw_no_error(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    report = Report(engine.dialect.name, 2, rate=40, seconds=5)
    with load_server(tmp_path, database_url, workers=2, members=60) as (server, people):
        drive(server.base, people, report.rate, report.seconds, report)
    print(f"load: {report.row()} {report.kinds()}")
    assert len(report.results) == 200
    log = (tmp_path / "server.log").read_text()
    assert report.errors == 0, (sorted({r.status for r in report.results}), log[-6000:])
