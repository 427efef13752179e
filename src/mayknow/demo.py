"""A fictional population to meet: ``mayknow serve --dev --demo``.

Forty members with Chinese and English nicknames, their address books (numbers only),
follows (mutual and one-way), a spread of consents and settings, all created through the
services, so every invariant holds (numbers that match nobody are discarded, links form
only under both consents, and so on). Everything is deterministic: the same seed gives
the same people, numbers, books and follows.

Their "apps" keep running while the server does (``Demo.tick``, every few seconds and on
the follow tab's demo button): each app syncs its address book again (that is how a
newcomer who allowed being found gets linked: mayknow kept no number that matched
nobody), a few members follow whoever they find in their books, a few follow back their
new fans, and friends of friends are computed again.

The visitor numbers are free for people trying the app; docs/web.md tells which reason
each of them meets. All numbers are fictional (+86 139 0000 ....).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from mayknow.accounts.models import User
from mayknow.accounts.sessions import Principal
from mayknow.bootstrap import Container
from mayknow.consent.domain import Purpose
from mayknow.contacts.service import QuotaProof
from mayknow.shared.errors import MayknowError
from mayknow.suggestions.jobs import refresh_friends_of_friends

log = logging.getLogger("mayknow.demo")

SEED = 20190209  # the day of the scene
ADDRESS = "127.0.0.1"
CHANNEL = "demo"
TICK_SECONDS = 8.0

# Numbers a visitor can sign up with. The first is the plaintiff's in the scene: twenty
# members have it in their address books.
PLAINTIFF = "+8613900000001"
VISITORS = (PLAINTIFF, "+8613900000002", "+8613900000003")

NICKNAMES = (
    "王小明", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄婷", "周杰", "吴芳",
    "徐强", "孙丽", "马超", "朱琳", "胡军", "郭敏", "何勇", "林晓", "高峰", "罗欣",
    "Alice Chen", "Ben Wu", "Chloe Li", "David Zhang", "Emma Liu", "Frank Zhou",
    "Grace Sun", "Henry Ma", "Ivy Lin", "Jack Guo", "郑浩", "梁爽", "谢雨", "宋佳",
    "唐宁", "Kate He", "Leo Xu", "Mia Tang", "韩梅梅", "Nina Qian",
)  # fmt: skip

HOLDERS_OF_PLAINTIFF = range(20)  # members 0-19 have the plaintiff's number
AGREE_TO_BE_SUGGESTED = frozenset(range(12))  # suggest_me_to_my_contacts among them
FOLLOW_ON_SIGHT = frozenset({2, 5})  # follow whoever their app finds in their book
FOLLOW_BACK = frozenset({2, 5, 7, 21, 23})  # follow back their new fans
UPLOADERS = frozenset(range(30))  # contacts_upload
HIDDEN = frozenset({30, 31, 32, 33})  # not discoverable_by_phone
OPTED_OUT = frozenset({10})  # recommend_me_to_others off
LIST_OFF = frozenset({39})  # suggestions_enabled off


def member_phone(index: int) -> str:
    """Member n (0-39) has +86 139 0000 10nn."""
    return f"+86139000010{index + 1:02d}"


@dataclass(frozen=True)
class Persona:
    index: int
    nickname: str
    phone: str
    consents: frozenset[Purpose]
    settings: dict[str, bool]
    book: tuple[str, ...]
    follows: tuple[int, ...]


def _consents(i: int) -> frozenset[Purpose]:
    granted = set()
    if i in UPLOADERS:
        granted.add(Purpose.CONTACTS_UPLOAD)
    if i not in HIDDEN:
        granted.add(Purpose.DISCOVERABLE_BY_PHONE)
    if i in AGREE_TO_BE_SUGGESTED or i in range(20, 26):
        granted.add(Purpose.SUGGEST_ME_TO_MY_CONTACTS)
    if i % 2 == 0:
        granted.add(Purpose.SUGGEST_FROM_OTHERS_CONTACTS)
    if i % 5 == 0:
        granted.add(Purpose.LOCATION_CITY)
    if i in {3, 24}:
        granted.add(Purpose.SHARE_WITH_PARTNER_APPS)
    return frozenset(granted)


def _book(i: int, rng: random.Random) -> tuple[str, ...]:
    if i not in UPLOADERS:
        return ()
    numbers = [member_phone(j) for j in rng.sample(range(40), 8) if j != i]
    if i in HOLDERS_OF_PLAINTIFF:
        numbers.append(PLAINTIFF)
    if i in range(20, 26):
        numbers.append(VISITORS[1])
    if i in {0, 1, 20}:
        numbers.append(VISITORS[2])
    numbers += [f"+86139000020{rng.randrange(100):02d}" for _ in range(3)]  # nobody's
    numbers.append("010-6552 0000")  # a landline: not a mobile number
    return tuple(numbers)


def _follows(rng: random.Random) -> dict[int, set[int]]:
    follows: dict[int, set[int]] = defaultdict(set)

    def mutual(a: int, b: int) -> None:
        follows[a].add(b)
        follows[b].add(a)

    for i in range(10):  # a close circle: friends of friends for whoever joins it
        mutual(i, (i + 1) % 10)
        mutual(i, (i + 3) % 10)
    for i in range(10, 24):
        mutual(i, i + 1)
    for i in range(20, 30, 2):
        mutual(i, (i + 7) % 40)
    for _ in range(30):  # one-way follows
        a, b = rng.sample(range(40), 2)
        follows[a].add(b)
    return follows


def personas(seed: int = SEED) -> list[Persona]:
    rng = random.Random(seed)  # noqa: S311 (fictional people, seeded so every run is the same)
    follows = _follows(rng)
    return [
        Persona(
            index=i,
            nickname=name,
            phone=member_phone(i),
            consents=_consents(i),
            settings={
                "recommend_me_to_others": i not in OPTED_OUT,
                "suggestions_enabled": i not in LIST_OFF,
            },
            book=_book(i, rng),
            follows=tuple(sorted(follows[i])),
        )
        for i, name in enumerate(NICKNAMES)
    ]


@dataclass
class TickReport:
    synced: int = 0
    followed: int = 0
    friends_of_friends: int = 0


@dataclass
class _App:
    """One member's app: the session it runs under and its quota proof's secret."""

    persona: Persona
    member: Principal
    secret: str
    synced_before: bool = False


@dataclass
class Demo:
    container: Container
    seed: int = SEED
    apps: list[_App] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    # -- the population --------------------------------------------------------------
    def store_is_empty(self) -> bool:
        with self.container.uow.read() as session:
            return not session.scalar(select(func.count()).select_from(User))

    def populate(self) -> int:
        """Create the members, their consents, settings and follows, then run their apps."""
        people = personas(self.seed)
        self.apps = [self._app(p, self._register(p)) for p in people]
        ids = [app.member.user_id for app in self.apps]
        for app in self.apps:
            self._choose(app)
        for app in self.apps:
            for other in app.persona.follows:
                self.container.graph.follow(app.member.user_id, ids[other])
        self.tick()
        return len(self.apps)

    def attach(self) -> int:
        """After a restart: log the members' apps in again (the store kept no session)."""
        self.apps = []
        for persona in personas(self.seed):
            member = self._log_in(persona)
            if member is not None:
                self.apps.append(self._app(persona, member))
        return len(self.apps)

    def _app(self, persona: Persona, member: Principal) -> _App:
        digest = hashlib.sha256(f"{self.seed}:{persona.phone}".encode()).digest()
        return _App(persona, member, base64.urlsafe_b64encode(digest).decode())

    def _code(self, phone: str) -> str:
        accounts, outbox = self.container.accounts, self.container.outbox
        assert outbox is not None, "the demo runs only in development mode"
        accounts.request_code(phone, ADDRESS)
        code = outbox.last_code(accounts.parse_phone(phone))
        assert code is not None
        return code

    def _register(self, persona: Persona) -> Principal:
        accounts = self.container.accounts
        version = self.container.consent.policy_version
        signed = accounts.register(
            persona.phone, self._code(persona.phone), persona.nickname, version, ADDRESS, CHANNEL
        )
        member = accounts.authenticate(signed.session.token)
        assert member is not None
        return member

    def _log_in(self, persona: Persona) -> Principal | None:
        accounts = self.container.accounts
        try:
            signed = accounts.login(persona.phone, self._code(persona.phone), None, CHANNEL)
        except MayknowError as exc:
            log.warning("demo member %d cannot log in: %s", persona.index, exc.code)
            return None
        return accounts.authenticate(signed.session.token)

    def _choose(self, app: _App) -> None:
        consent, member = self.container.consent, app.member
        for purpose in sorted(app.persona.consents):
            consent.change(member.user_id, member.subject_ref, purpose, True, CHANNEL)
        consent.update_settings(member.user_id, member.subject_ref, app.persona.settings)

    # -- their apps at work ------------------------------------------------------------
    def tick(self) -> TickReport:
        """Each app syncs its book; some follow whom they find or who followed them."""
        report = TickReport()
        with self._lock:
            members = {app.member.user_id for app in self.apps}
            for app in self.apps:
                found = self._sync(app)
                report.synced += 1 if app.persona.book else 0
                newcomers = found - members
                if app.persona.index in FOLLOW_ON_SIGHT:
                    report.followed += self._follow(app, newcomers)
                if app.persona.index in FOLLOW_BACK:
                    fans = {
                        int(str(f["user_id"]))
                        for f in self.container.graph.fans(app.member.user_id)
                    }
                    report.followed += self._follow(app, fans - members)
            report.friends_of_friends = friends_of_friends(self.container)
        return report

    def _sync(self, app: _App) -> set[int]:
        if not app.persona.book:
            return set()
        previous = list(app.persona.book) if app.synced_before else []
        proof = QuotaProof(app.secret, previous)
        try:
            result = self.container.contacts.sync(app.member, list(app.persona.book), proof)
        except MayknowError as exc:
            log.warning("demo member %d cannot sync: %s", app.persona.index, exc.code)
            return set()
        app.synced_before = True
        return {int(str(m["user_id"])) for m in result.matched}

    def _follow(self, app: _App, others: Iterable[int]) -> int:
        already = {
            int(str(f["user_id"])) for f in self.container.graph.following(app.member.user_id)
        }
        made = 0
        for other in sorted(set(others) - already):
            try:
                self.container.graph.follow(app.member.user_id, other)
                made += 1
            except MayknowError:
                continue  # that account was just deleted
        return made

    def run_in_background(self, every: float = TICK_SECONDS) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.tick()
                except Exception as exc:  # the demo must never take the server down
                    log.warning("demo tick failed: %s", type(exc).__name__)

        thread = threading.Thread(target=loop, name="mayknow-demo", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


def friends_of_friends(container: Container) -> int:
    """Run the friend-of-friend batch job (DuckDB) over the store, as `mayknow jobs` does."""
    report = refresh_friends_of_friends(
        container.engine, clock=container.clock, degree_cap=container.settings.fof_degree_cap
    )
    return report.rows
