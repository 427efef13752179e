"""Seed a fresh store in-process: N accounts with fictional numbers and one session each.

It goes through mayknow's own services (``bootstrap.build`` and the account service), as a
member's sign-up would, with the development OutboxSender to read each one-time code back.
Nothing is sent anywhere. The bearer tokens stay in memory (and in run.py's private
temp dir for the load generator), never in the repository.

The accounts are dated as if they had signed in one after another over the last
``sessions.TOUCH_EVERY`` (5 minutes): GET /v1/me rewrites a session's ``last_seen_at`` once
per TOUCH_EVERY, so with spread ages those writes come at a steady rate (about N per 300 s),
as from a real population, instead of all at once five minutes after seeding.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mayknow import bootstrap, config
from mayknow.accounts.sessions import TOUCH_EVERY
from mayknow.accounts.sms import OutboxSender
from mayknow.shared.clock import FakeClock, SystemClock

# Fictional numbers: +86 139 0000 0000, +86 139 0000 0001, ... (block 139 00xx xxxx).
# They are only ever pseudonymised and encrypted into a throwaway store; no SMS is sent.
MAX_USERS = 100_000
SEED_ADDRESS = "127.0.0.1"
SEED_LIMIT = 10**9  # the per-address hourly limits, lifted for the seeding process only


def fictional_phone(i: int) -> str:
    if not 0 <= i < MAX_USERS:
        raise ValueError(f"at most {MAX_USERS} fictional numbers")
    return f"+86 139 {i // 10_000:04d} {i % 10_000:04d}"


@dataclass(frozen=True)
class Seeded:
    accounts: list[tuple[int, str]]  # (user_id, bearer token)
    seconds: float


def seed(
    database_url: str,
    data_dir: Path,
    users: int,
    progress: Callable[[int, int], None] | None = None,
) -> Seeded:
    """Create ``users`` accounts, each signed in once, in the store at ``database_url``."""
    settings = config.load(
        {
            "db": database_url,
            "data_dir": data_dir,
            "codes_per_address_per_hour": SEED_LIMIT,
            "signups_per_address_per_hour": SEED_LIMIT,
        },
        environ={},
    )
    outbox = OutboxSender()
    clock = FakeClock(SystemClock().now() - TOUCH_EVERY)
    step = TOUCH_EVERY.total_seconds() / users
    container = bootstrap.build(settings, sms=outbox, clock=clock)  # key ring, migrations
    started = time.perf_counter()
    accounts: list[tuple[int, str]] = []
    try:
        version = container.consent.policy_version
        svc = container.accounts
        for i in range(users):
            phone = fictional_phone(i)
            svc.request_code(phone, SEED_ADDRESS)
            code = outbox.last_code(svc.parse_phone(phone))
            signed = svc.register(
                phone, code, f"bench-{i:05d}", version, SEED_ADDRESS, channel="api"
            )
            accounts.append((signed.user_id, signed.session.token))
            clock.advance(seconds=step)
            if progress is not None and (i + 1) % 500 == 0:
                progress(i + 1, users)
    finally:
        container.engine.dispose()
    return Seeded(accounts, time.perf_counter() - started)
