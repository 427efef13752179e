from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool

from mayknow import config
from mayknow.db.engine import make_engine

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_has_help_text() -> None:
    for f in config.declared():
        assert len(f.metadata.get("help", "")) > 15, f.name


def test_docs_list_every_setting_as_generated() -> None:
    documented = (ROOT / "docs" / "settings.md").read_text()
    assert documented == config.markdown(), "run: mayknow settings > docs/settings.md"


def test_flags_win_over_variables_and_variables_over_defaults() -> None:
    environ = {
        "MAYKNOW_PORT": "9000",
        "MAYKNOW_DEV": "yes",
        "MAYKNOW_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.0/8",
    }
    settings = config.load({"port": 9100}, environ)
    assert settings.port == 9100
    assert settings.dev is True
    assert settings.trusted_proxies == ("10.0.0.1", "10.0.0.0/8")
    assert config.load(None, {}).port == 8000


def test_settings_survive_the_trip_to_a_worker_process(tmp_path: Path) -> None:
    settings = config.load({"data_dir": tmp_path, "trusted_proxies": ("127.0.0.1",)}, {})
    assert config.load(None, config.to_environ(settings)) == settings


def test_the_embedded_store_lives_in_the_data_dir(tmp_path: Path) -> None:
    assert config.load({"data_dir": tmp_path}).database_url == f"sqlite:///{tmp_path}/mayknow.db"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("MAYKNOW_DEV", "maybe"),
        ("MAYKNOW_PORT", "x"),
        ("MAYKNOW_SESSION_MAX_AGE_DAYS", "31"),
        ("MAYKNOW_DB_POOL_SIZE", "0"),
    ],
)
def test_bad_values_are_refused(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        config.load(None, {name: raw})


def test_postgresql_gets_the_configured_pool() -> None:
    url = "postgresql+psycopg://someone@db.invalid/mayknow"  # never connected to
    settings = config.load({"db": url}, {"MAYKNOW_DB_POOL_SIZE": "5"})
    pool = make_engine(settings.database_url, settings.db_pool_size).pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == 5
