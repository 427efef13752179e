"""Sign a random sample of the loaded members in, through mayknow's own account service.

The bulk load bypasses the API, so nobody has a session. Each sampled viewer asks for a
one-time code and logs in with it (``AccountService.request_code`` and ``login``, the
development ``OutboxSender`` reading the code back; nothing is sent anywhere), which
stores the session as the SHA-256 of a random token, as a real login does. The tokens
live only in memory and in a 0600 file in the run's private temp dir, for the load
generator; the sessions are revoked when the run ends. A member the service refuses a
code (an earlier run on a kept store signed the same member in minutes ago) is skipped;
more than 1% of them ends the run.

Logins are dated one after another over the last ``sessions.TOUCH_EVERY`` (5 minutes),
as bench/http/seed.py does, so that the per-session ``last_seen_at`` rewrites that
authentication makes every 5 minutes come at a steady rate (viewers / 300 s), not all at
once in the middle of the run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from mayknow import bootstrap, config
from mayknow.accounts import sessions
from mayknow.accounts.domain import token_hash
from mayknow.accounts.sessions import TOUCH_EVERY
from mayknow.accounts.sms import OutboxSender
from mayknow.shared.clock import FakeClock, SystemClock
from mayknow.shared.errors import RateLimited

ADDRESS = "127.0.0.1"
NO_LIMIT = 10**9  # per-address hourly limits, lifted for this process only


@dataclass(frozen=True)
class Viewer:
    user_id: int
    token: str


def sample(population: Path, count: int, seed: int) -> list[tuple[int, str]]:
    """``count`` members drawn uniformly at random: (user_id, fictional number)."""
    users = pq.read_table(population / "users.parquet", columns=["user_id", "phone"])
    picked = random.Random(seed).sample(range(users.num_rows), min(count, users.num_rows))
    ids, phones = users.column("user_id"), users.column("phone")
    return [(ids[i].as_py(), phones[i].as_py()) for i in picked]


def _container(
    url: str, data_dir: Path, clock: FakeClock, outbox: OutboxSender
) -> bootstrap.Container:
    settings = config.load(
        {
            "db": url,
            "data_dir": data_dir,
            "codes_per_address_per_hour": NO_LIMIT,
            "signups_per_address_per_hour": NO_LIMIT,
        },
        environ={},
    )
    return bootstrap.build(settings, sms=outbox, clock=clock, migrate=False)


def sign_in(
    url: str,
    data_dir: Path,
    members: list[tuple[int, str]],
    progress: Callable[[int, int], None] | None = None,
) -> list[Viewer]:
    outbox = OutboxSender()
    clock = FakeClock(SystemClock().now() - TOUCH_EVERY)
    step = TOUCH_EVERY.total_seconds() / max(1, len(members))
    container = _container(url, data_dir, clock, outbox)
    viewers, refused = [], 0
    try:
        svc, version = container.accounts, container.consent.policy_version
        for n, (user_id, phone) in enumerate(members, 1):
            try:
                svc.request_code(phone, ADDRESS)
            except RateLimited:  # signed in by an earlier run on this store, minutes ago
                refused += 1
                if refused > len(members) // 100:
                    raise SystemExit(
                        f"the account service refused codes to {refused} sampled viewers: "
                        "an earlier run on this store signed them in minutes ago; wait, "
                        "or pass another --seed"
                    ) from None
                continue
            code = outbox.last_code(svc.parse_phone(phone))
            signed = svc.login(phone, code, version, "api", ADDRESS)
            if signed.user_id != user_id:
                raise RuntimeError(f"login for member #{n} answered another account")
            viewers.append(Viewer(user_id, signed.session.token))
            clock.advance(seconds=step)
            if progress is not None and n % 500 == 0:
                progress(n, len(members))
    finally:
        container.engine.dispose()
    return viewers


def revoke(url: str, data_dir: Path, viewers: list[Viewer]) -> int:
    """Sign the benchmark's sessions out again (the cached store keeps no stray sessions)."""
    container = _container(url, data_dir, FakeClock(SystemClock().now()), OutboxSender())
    try:
        with container.uow.write() as session:
            return sum(sessions.revoke(session, token_hash(v.token)) for v in viewers)
    finally:
        container.engine.dispose()


def write_tokens(viewers: list[Viewer], path: Path) -> None:
    """'user_id token' lines for bench/http/loadgen.py, readable by this user only."""
    path.touch(mode=0o600)
    path.write_text("".join(f"{v.user_id} {v.token}\n" for v in viewers))
