"""The enumeration attack, simulated: K verified accounts try to map a block of numbers
through the plain sync, private evaluation and the code endpoint, over simulated days on
a FakeClock, against the production limits (not --dev's relaxed ones).

    .venv/bin/python -m tests.reliability.enumeration --accounts 10 --block 100000

prints the table docs/reliability.md records; test_enumeration.py runs a small version.
"""

from __future__ import annotations

import argparse
import base64
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from mayknow import bootstrap, config
from mayknow.accounts.sms import OutboxSender
from mayknow.contacts.cuckoo import CuckooFilter, tag_of
from mayknow.db.engine import make_engine
from mayknow.db.migrate import upgrade
from mayknow.entrypoints.api.app import create_app
from mayknow.identity import oprf
from mayknow.shared.clock import FakeClock
from tests.conftest import Member
from tests.reliability.population import enrol, grant

CHUNK = 10_000
MODES = ("sync", "private", "code")


@dataclass(frozen=True)
class Plan:
    accounts: int = 10  # K, per mode
    block: int = 100_000  # numbers tried: +86 137 0000 0000 upwards
    days: int = 3
    code_days: int = 3  # every day of the code endpoint is alike: the test runs one
    member_every: int = 500  # one number in 500 is a member who may be found...
    hidden_every: int = 1000  # ...and one in 1000 a member who may not


@dataclass
class Day:
    mode: str
    day: int
    tested: int = 0
    learned: int = 0  # members who may be found, recognised as members
    wrong: int = 0  # hidden members or strangers taken for members


def block_number(index: int) -> str:
    return f"+86137{index:08d}"


class Attack:
    def __init__(self, plan: Plan, settings: config.Settings, engine: Engine) -> None:
        self.plan, self.clock = plan, FakeClock()
        self.container = bootstrap.build(
            settings, clock=self.clock, sms=OutboxSender(), engine=engine, migrate=False
        )
        self.bucket = self.container.contacts.limits.quota
        self.block = [block_number(i) for i in range(plan.block)]
        self.found = set(self.block[:: plan.member_every])
        self.hidden = set(self.block[1 :: plan.hidden_every])
        for count, phone in enumerate(sorted(self.found | self.hidden)):
            # Members sign up from many addresses: the production cap is 10 an hour each.
            member = enrol(
                self.container, phone, "成员", address=f"198.51.{count // 2500}.{count // 10 % 250}"
            )
            if phone in self.found:
                grant(self.container, member, ["discoverable_by_phone"])

    def attackers(self, mode: str) -> list[Member]:
        prefix = {"sync": 1, "private": 2, "code": 3}[mode]
        accounts = []
        for k in range(self.plan.accounts):
            phone = f"+86139{prefix}{k:07d}"
            member = enrol(self.container, phone, "攻击者", address=f"203.0.113.{prefix}")
            grant(self.container, member, ["contacts_upload"])
            accounts.append(member)
            self.clock.advance(minutes=7)  # 10 sign-ups an hour from one address
        return accounts

    def run(self, http: TestClient) -> list[Day]:
        days: list[Day] = []
        for mode in MODES:
            accounts = self.attackers(mode)
            self.cursor = 0
            self.permits = {a.user_id: self.bucket.capacity for a in accounts}
            for number in range(1, (self.plan.code_days if mode == "code" else self.plan.days) + 1):
                day = Day(mode, number)
                for _hour in range(24):
                    getattr(self, f"_{mode}")(http, accounts, day)
                    self.clock.advance(hours=1)
                    for account in accounts:  # the documented refill, as the client counts it
                        self.permits[account.user_id] = min(
                            self.bucket.capacity,
                            self.permits[account.user_id] + self.bucket.per_hour,
                        )
                days.append(day)
            self.clock.advance(days=30)  # the next mode starts with fresh limits
        return days

    def _learn(self, day: Day, numbers: list[str]) -> None:
        day.learned += sum(1 for n in numbers if n in self.found)
        day.wrong += sum(1 for n in numbers if n not in self.found)

    def _ready(self, account: Member) -> bool:
        """An account looks numbers up when it holds a chunk or a day's refill of permits."""
        return self.permits[account.user_id] >= min(CHUNK, 24 * self.bucket.per_hour)

    def _take(self, account: Member) -> list[str]:
        return self._next(min(CHUNK, self.permits[account.user_id]))

    def _refused(
        self, http: TestClient, account: Member, answer: Response, chunk: list[str]
    ) -> bool:
        """A 429 for the quota: the client's count was off; put the chunk back and re-read."""
        if answer.status_code != 429:
            assert answer.status_code == 200, answer.text
            return False
        self.cursor -= len(chunk)
        self.permits[account.user_id] = min(len(chunk) - 1, _permits(http, account))
        return True

    def _next(self, size: int) -> list[str]:
        chunk = self.block[self.cursor : self.cursor + size]
        self.cursor += len(chunk)
        return chunk

    # -- plain sync: as many new numbers as each account's quota allows ------------------
    def _sync(self, http: TestClient, accounts: list[Member], day: Day) -> None:
        for account in accounts:
            if not self._ready(account):
                continue
            while self.permits[account.user_id] and (chunk := self._take(account)):
                answer = http.post(
                    "/v1/contacts/sync", json={"phones": chunk}, headers=account.auth
                )
                if self._refused(http, account, answer, chunk):
                    continue
                body = answer.json()
                day.tested += len(chunk)
                self._learn(day, [chunk[m["index"]] for m in body["matched"]])
                self.permits[account.user_id] = body["quota_remaining"]

    # -- private discovery: each evaluation a permit; 20,000 an hour from one address ---
    def _private(self, http: TestClient, accounts: list[Member], day: Day) -> None:
        cuckoo = CuckooFilter.from_bytes(
            http.get("/v1/contacts/private/filter", headers=accounts[0].auth).content
        )
        for account in accounts:
            if not self._ready(account):
                continue
            while self.permits[account.user_id] and (chunk := self._take(account)):
                blinded = [oprf.blind(n.encode()) for n in chunk]
                body = {"elements": [base64.b64encode(e).decode() for _, e in blinded]}
                answer = http.post("/v1/contacts/private/evaluate", json=body, headers=account.auth)
                if answer.status_code == 429 and answer.json()["error"]["code"] == "rate_limited":
                    self.cursor -= len(chunk)  # the address's hour is used up
                    return
                if self._refused(http, account, answer, chunk):
                    continue
                evaluated = [base64.b64decode(e) for e in answer.json()["evaluated"]]
                hits = [
                    n
                    for n, (blind, _), e in zip(chunk, blinded, evaluated, strict=True)
                    if tag_of(oprf.finalize(n.encode(), blind, e)) in cuckoo
                ]
                day.tested += len(chunk)
                self._learn(day, hits)
                self.permits[account.user_id] -= len(chunk)

    # -- the code endpoint: it answers members and strangers alike -----------------------
    def _code(self, http: TestClient, _accounts: list[Member], day: Day) -> None:
        shapes: dict[str, list[str]] = {}
        while chunk := self._next(1):
            answer = http.post("/v1/auth/code", json={"phone": chunk[0]})
            if answer.status_code == 429:  # the address's hour is used up
                self.cursor -= 1
                break
            day.tested += 1
            shapes.setdefault(_shape(answer), []).append(chunk[0])
        if len(shapes) > 1:  # answers that differ would tell the minority apart
            usual = max(shapes.values(), key=len)
            self._learn(day, [n for group in shapes.values() if group is not usual for n in group])


def _permits(http: TestClient, account: Member) -> int:
    quota = http.get("/v1/me/export", headers=account.auth).json()["discovery_quota"]
    return int(quota["permits"]) if quota else 50_000


def _shape(answer: Response) -> str:
    return f"{answer.status_code} {sorted(answer.json())} {sorted(answer.headers)}"


def ceiling(settings: config.Settings, plan: Plan, mode: str, days: int) -> int:
    """The most numbers the documented limits let K accounts from one address test in the
    first ``days`` days: the quota (capacity, then its refill) and the per-address caps."""
    k, hourly = plan.accounts, settings.private_evaluations_per_address_per_hour
    quota = k * (settings.discovery_quota_capacity + 24 * settings.discovery_quota_per_hour * days)
    if mode == "sync":
        return quota
    if mode == "private":
        return min(quota, days * 24 * hourly)
    return days * 24 * settings.codes_per_address_per_hour


def table(settings: config.Settings, plan: Plan, days: list[Day]) -> str:
    lines = [
        f"K = {plan.accounts} accounts per mode, one client address, a block of "
        f"{plan.block:,} numbers holding {plan.block // plan.member_every:,} findable and "
        f"{plan.block // plan.hidden_every:,} hidden members",
        "",
        "| mode | day | tested that day | tested so far | documented ceiling so far "
        "| members learned that day | wrongly learned |",
        "|---|---|---|---|---|---|---|",
    ]
    so_far: dict[str, int] = {}
    for d in days:
        so_far[d.mode] = so_far.get(d.mode, 0) + d.tested
        top = ceiling(settings, plan, d.mode, d.day)
        lines.append(
            f"| {d.mode} | {d.day} | {d.tested:,} | {so_far[d.mode]:,} | {top:,} "
            f"| {d.learned:,} | {d.wrong:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--block", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--db", default="", help="a SQLAlchemy URL; default a temporary SQLite")
    args = parser.parse_args()
    plan = Plan(accounts=args.accounts, block=args.block, days=args.days)
    with tempfile.TemporaryDirectory() as tmp:
        settings = config.Settings(data_dir=Path(tmp), db=args.db, dev=False)
        engine = make_engine(settings.database_url)
        upgrade(engine)
        attack = Attack(plan, settings, engine)
        with TestClient(create_app(attack.container)) as http:
            print(table(settings, plan, attack.run(http)))
        engine.dispose()


if __name__ == "__main__":
    main()
