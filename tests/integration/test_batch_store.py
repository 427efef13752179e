"""The friend-of-friend batch job against the store: members follow each other through
the API, the job fills fof_candidates, a slice touches only its viewers, and a run that
fails before its commit leaves the old rows in force."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, select
from typer.testing import CliRunner

from mayknow import bootstrap
from mayknow.entrypoints.cli import app
from mayknow.shared.clock import FakeClock, as_utc
from mayknow.suggestions.batch import EngineOptions, run_job
from mayknow.suggestions.models import FofCandidate
from tests.conftest import Member, People

OPTIONS = EngineOptions(threads=1, memory_limit="512MB")
Row = tuple[int, int, int, int, int | None, int | None, int | None]


def w(degree: int) -> int:
    return round(1e9 / math.log(degree))


def befriend(client: TestClient, a: Member, b: Member) -> None:
    for one, other in ((a, b), (b, a)):
        response = client.post(f"/v1/follows/{other.user_id}", headers=one.auth)
        assert response.status_code == 200, response.text


def table(engine: Engine) -> list[Row]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                FofCandidate.viewer_id,
                FofCandidate.candidate_id,
                FofCandidate.score,
                FofCandidate.mutual_count,
                FofCandidate.via1,
                FofCandidate.via2,
                FofCandidate.via3,
            ).order_by(FofCandidate.viewer_id, FofCandidate.candidate_id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def job(container: bootstrap.Container, **kwargs: object) -> int:
    report = run_job(
        container.engine,
        engine="duckdb",
        progress=False,
        clock=container.clock,
        options=OPTIONS,
        **kwargs,  # type: ignore[arg-type]
    )
    return report.rows


class Circle:
    """ling - hu - bing - xiao: a chain of mutual follows, plus a one-way follow."""

    def __init__(self, people: People, client: TestClient) -> None:
        self.ling, self.hu = people.sign_up("凌某"), people.sign_up("胡子")
        self.bing, self.xiao = people.sign_up("大饼"), people.sign_up("小明")
        befriend(client, self.ling, self.hu)
        befriend(client, self.hu, self.bing)
        befriend(client, self.bing, self.xiao)
        fan = people.sign_up("粉丝")
        client.post(f"/v1/follows/{self.ling.user_id}", headers=fan.auth)  # one-way: no edge

    def expected(self) -> list[Row]:
        ling, hu, bing, xiao = (m.user_id for m in (self.ling, self.hu, self.bing, self.xiao))
        return sorted(
            [
                (ling, bing, w(2), 1, hu, None, None),
                (bing, ling, w(2), 1, hu, None, None),
                (hu, xiao, w(2), 1, bing, None, None),
                (xiao, hu, w(2), 1, bing, None, None),
            ]
        )


@pytest.fixture
def circle(people: People, client: TestClient) -> Circle:
    return Circle(people, client)


def test_job_fills_candidates_from_mutual_follows_made_through_the_api(
    container: bootstrap.Container, circle: Circle
) -> None:
    assert job(container) == 4
    assert table(container.engine) == circle.expected()
    with container.engine.connect() as conn:
        stamps = set(conn.scalars(select(FofCandidate.computed_at)))
    assert {as_utc(s) for s in stamps} == {container.clock.now()}


def test_rerun_replaces_every_row(
    container: bootstrap.Container, circle: Circle, client: TestClient
) -> None:
    job(container)
    client.delete(f"/v1/follows/{circle.hu.user_id}", headers=circle.bing.auth)
    assert job(container) == 0
    assert table(container.engine) == []


def test_slice_run_replaces_only_its_viewers(
    container: bootstrap.Container, circle: Circle, client: TestClient
) -> None:
    job(container)
    before = table(container.engine)
    client.delete(f"/v1/follows/{circle.hu.user_id}", headers=circle.bing.auth)
    k = circle.ling.user_id % 3
    job(container, slice_=(k, 3))
    after = table(container.engine)
    assert [r for r in after if r[0] % 3 != k] == [r for r in before if r[0] % 3 != k]
    assert [r for r in after if r[0] % 3 == k] == []


def test_run_failing_before_its_commit_leaves_the_old_rows_in_force(
    container: bootstrap.Container, circle: Circle, client: TestClient
) -> None:
    job(container)
    before = table(container.engine)
    client.delete(f"/v1/follows/{circle.hu.user_id}", headers=circle.bing.auth)
    seen_by_reader: list[list[Row]] = []

    def fail_after_writing(conn: Connection) -> None:
        seen_by_reader.append(table(container.engine))  # another connection, mid-run
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        job(container, before_commit=fail_after_writing)
    assert seen_by_reader == [before]
    assert table(container.engine) == before


def test_job_reads_a_parquet_export_instead_of_the_store(
    container: bootstrap.Container, circle: Circle, tmp_path: Path, engine: Engine
) -> None:
    ids = [m.user_id for m in (circle.ling, circle.hu, circle.bing, circle.xiao)]
    pairs = [(ids[0], ids[1]), (ids[1], ids[0]), (ids[0], ids[2]), (ids[2], ids[0])]
    export = tmp_path / "follows.parquet"
    pq.write_table(
        pa.table({"follower_id": [a for a, _ in pairs], "followee_id": [b for _, b in pairs]}),
        export,
    )
    job(container, parquet_in=export)
    assert [r[:2] for r in table(engine)] == sorted([(ids[1], ids[2]), (ids[2], ids[1])])


def test_clock_stamps_computed_at(container: bootstrap.Container, circle: Circle) -> None:
    clock = container.clock
    assert isinstance(clock, FakeClock)
    clock.advance(days=3)
    job(container)
    with container.engine.connect() as conn:
        stamps = {as_utc(s) for s in conn.scalars(select(FofCandidate.computed_at))}
    assert stamps == {clock.now()}


def test_the_command_runs_the_job_over_the_store(
    container: bootstrap.Container, circle: Circle
) -> None:
    settings = container.settings
    where = ["--db", settings.database_url, "--data-dir", str(settings.data_dir)]
    command = ["jobs", "suggestions", "--no-progress", "--threads", "1", *where]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "fof_candidates: 4 rows for 4 viewers" in result.output
    assert table(container.engine) == circle.expected()
    bad = CliRunner().invoke(app, [*command, "--slice", "3/3"])
    assert bad.exit_code == 2
    assert "k/n" in bad.output
