"""`mayknow replay` replays the Douyin scene against a real server and every holding holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine


def test_the_replay_meets_every_holding(tmp_path: Path, engine: Engine) -> None:
    args = [sys.executable, "-m", "mayknow", "replay", "--html", str(tmp_path / "replay.html")]
    if engine.dialect.name == "postgresql":  # on the suite's PostgreSQL too
        args += ["--db", engine.url.render_as_string(hide_password=False)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("replay: every holding met")
    for holding in range(1, 15):
        assert f"H{holding} |    PASS" in done.stdout
    assert "FAIL" not in done.stdout
    page = (tmp_path / "replay.html").read_text()
    assert "Every holding is met." in page
    assert "推荐|成都" in page  # side by side with what Douyin did
