"""Every setting of mayknow, declared once with its default and its help text.

A setting comes from a command-line flag, else from the ``MAYKNOW_<NAME>`` variable,
else from its default. ``docs/settings.md`` is generated from these declarations
(``mayknow settings --markdown``) and a test fails when the two drift apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _setting(default: Any, help: str) -> Any:
    if isinstance(default, tuple | list):
        return field(default_factory=lambda: tuple(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(
        Path("mayknow-data"),
        "Directory for the embedded SQLite database and the key file (created with 0700).",
    )
    db: str = _setting(
        "",
        "SQLAlchemy URL of the store, e.g. postgresql+psycopg://user@host/db. "
        "Empty means the embedded SQLite file DATA_DIR/mayknow.db.",
    )
    dev: bool = _setting(
        False,
        "Development mode: console SMS sender, GET /v1/dev/outbox, relaxed per-address "
        "limits, non-Secure cookie. Never use it in production.",
    )
    host: str = _setting("127.0.0.1", "Address to listen on.")
    port: int = _setting(8000, "Port to listen on.")
    workers: int = _setting(1, "Number of server processes (development mode always uses 1).")
    auto_migrate: bool = _setting(True, "Upgrade the database schema when the server starts.")
    db_pool_size: int = _setting(
        3,
        "PostgreSQL connections each server process keeps; a request waits for a free one. "
        "More than a few per core only adds contention (bench/suggestions_http).",
    )
    default_region: str = _setting(
        "CN", "Region (ISO 3166 code) used to read phone numbers written without +country."
    )
    max_body_bytes: int = _setting(
        1_048_576, "Largest request body accepted, in bytes; larger bodies get 413."
    )
    session_max_age_days: int = _setting(
        30, "Absolute lifetime of a session in days (at most 30); also the cookie's Max-Age."
    )
    session_idle_days: int = _setting(7, "A session unused for this many days ends.")
    code_ttl_seconds: int = _setting(300, "Lifetime of a one-time login code.")
    code_max_attempts: int = _setting(5, "Wrong tries after which a one-time code is void.")
    code_interval_seconds: int = _setting(
        60, "Minimum time between two codes sent to the same number."
    )
    codes_per_number_per_hour: int = _setting(5, "Codes sent to one number in an hour.")
    codes_per_address_per_hour: int = _setting(
        20, "Codes requested from one client address in an hour (relaxed in development mode)."
    )
    signups_per_address_per_hour: int = _setting(
        10, "Accounts registered from one client address in an hour (relaxed in development mode)."
    )
    dev_address_limit: int = _setting(
        100_000, "The per-address hourly limits that apply instead in development mode."
    )
    max_numbers_per_sync: int = _setting(
        10_000, "Most numbers one address-book sync may carry; more is refused with 413."
    )
    match_directory: bool = _setting(
        True,
        "Keep in each server process a directory of the members findable by phone (16 bytes "
        "each, built at start-up) so that address-book numbers matching nobody are answered "
        "without a store lookup. Off: every number is looked up in the store.",
    )
    discovery_quota_capacity: int = _setting(
        50_000, "New numbers a member may look up before the quota refills (Signal's figure)."
    )
    discovery_quota_per_hour: int = _setting(
        6, "Permits added back to a member's discovery quota each hour."
    )
    private_evaluations_per_address_per_hour: int = _setting(
        20_000,
        "Blinded numbers one client address may have evaluated in an hour in private "
        "discovery (relaxed in development mode).",
    )
    filter_max_age_seconds: int = _setting(
        60, "How long a built private-discovery filter is served before it is rebuilt."
    )
    city_lifetime_days: int = _setting(
        30, "A city derived under location_city is forgotten after this many days."
    )
    ip2region_file: str = _setting(
        "",
        "Path of an ip2region xdb file to use instead of the one shipped with the "
        "ip-region package (IPv4, built 2024-02-28).",
    )
    weight_in_your_contacts: int = _setting(
        100, "Points of a suggestion whose number is in your address book."
    )
    weight_has_you_in_contacts: int = _setting(
        80, "Points of a suggestion whose address book holds your number (double consent)."
    )
    weight_follows_you: int = _setting(60, "Points of a suggestion who follows you.")
    weight_mutual_connections: int = _setting(
        20, "Points per unit of Adamic-Adar score over mutual connections (friend of friend)."
    )
    fof_degree_cap: int = _setting(
        1_000, "Friend-of-friend skips intermediaries with more mutual connections than this."
    )
    purge_interval_minutes: int = _setting(
        60, "How often each server process enforces retention (0: only `mayknow purge`)."
    )
    audit_retention_days: int = _setting(
        1095,
        "Audit events older than this many days are removed by the retention purge, oldest "
        "first, keeping the chain verifiable from a checkpoint. The privacy policy says 3 "
        "years: change it there too.",
    )
    trusted_proxies: tuple[str, ...] = _setting(
        (),
        "Addresses or networks of reverse proxies whose X-Forwarded-For is believed "
        "(repeatable flag; comma-separated in the variable).",
    )
    partner_code_ttl_seconds: int = _setting(
        60, "Lifetime of an authorization code issued to a partner app (single use, PKCE)."
    )
    partner_token_ttl_seconds: int = _setting(
        3600,
        "Lifetime of a partner app's access token; a spent code is kept as long, so that "
        "replaying it still revokes the token it issued.",
    )
    sms_webhook_url: str = _setting(
        "",
        "Outside development mode: URL that receives each SMS as a signed JSON POST "
        "(see docs/sms-webhook.md). Empty means no SMS can be sent.",
    )
    sms_webhook_secret: str = _setting(
        "", "Shared secret for the X-Mayknow-Signature HMAC of each webhook POST."
    )

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'mayknow.db'}"

    @property
    def address_limits_relaxed(self) -> bool:
        return self.dev


def declared() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))


def env_name(name: str) -> str:
    return f"MAYKNOW_{name.upper()}"


def _convert(kind: Any, raw: str) -> Any:
    if kind in (bool, "bool"):
        lowered = raw.strip().lower()
        if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ValueError(f"expected a boolean, got {raw!r}")
        return lowered in {"1", "true", "yes", "on"}
    if kind in (int, "int"):
        return int(raw)
    if kind in (Path, "Path"):
        return Path(raw)
    if kind in (tuple[str, ...], "tuple[str, ...]"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def load(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings: flags win over variables, variables over defaults."""
    environ = environ or {}
    values: dict[str, Any] = {}
    for f in declared():
        if overrides and overrides.get(f.name) is not None:
            values[f.name] = overrides[f.name]
        elif env_name(f.name) in environ:
            values[f.name] = _convert(f.type, environ[env_name(f.name)])
    settings = Settings(**values)
    if not 1 <= settings.session_max_age_days <= 30:
        raise ValueError("session_max_age_days must be between 1 and 30")
    for name in (
        "audit_retention_days",
        "partner_code_ttl_seconds",
        "partner_token_ttl_seconds",
        "db_pool_size",
    ):
        if getattr(settings, name) < 1:
            raise ValueError(f"{name} must be at least 1")
    return settings


def to_environ(settings: Settings) -> dict[str, str]:
    """The variables that make ``load`` rebuild these settings in a worker process."""
    out: dict[str, str] = {}
    for f in declared():
        value = getattr(settings, f.name)
        out[env_name(f.name)] = ",".join(value) if isinstance(value, tuple) else str(value)
    return out


def markdown() -> str:
    lines = [
        "# Settings",
        "",
        "Generated by `mayknow settings --markdown` from `src/mayknow/config.py`.",
        "Each setting is a flag of `mayknow serve` where one exists, or the variable shown.",
        "",
        "| setting | variable | default | what it does |",
        "|---|---|---|---|",
    ]
    defaults = Settings()
    for f in declared():
        default = getattr(defaults, f.name)
        shown = ",".join(default) if isinstance(default, tuple) else str(default)
        lines.append(
            f"| `{f.name}` | `{env_name(f.name)}` | `{shown or '(empty)'}` | {f.metadata['help']} |"
        )
    return "\n".join(lines) + "\n"
