"""Accounts: one-time codes, registration, login, sessions, the member's own profile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from mayknow.accounts import codes, ratelimit, sessions
from mayknow.accounts.domain import InvalidNickname, clean_nickname, looks_like_code, new_code
from mayknow.accounts.models import SecurityEvent, User
from mayknow.accounts.sessions import Issued, Principal
from mayknow.accounts.sms import SmsSender, SmsUnavailable
from mayknow.audit import service as audit
from mayknow.consent.service import ConsentService
from mayknow.db.ops import affected
from mayknow.db.prepared import Prepared
from mayknow.db.uow import Queryable, UnitOfWork
from mayknow.identity.keyring import KeyRing
from mayknow.identity.phone import InvalidPhone, mask, parse_mobile
from mayknow.shared.clock import Clock, as_utc
from mayknow.shared.errors import Conflict, InvalidInput, MayknowError, NotFound
from mayknow.shared.ids import new_ref, new_user_id

HOUR = timedelta(hours=1)
_PROFILE = Prepared(
    select(User.id, User.nickname, User.phone_ciphertext).where(User.id == bindparam("user_id"))
)
_NICKNAMES = Prepared(
    select(User.id, User.nickname).where(User.id.in_(bindparam("ids", expanding=True)))
)
_MATCHABLE = select(User.id, User.nickname, User.phone_pseudonym)  # what a match needs
_BY_PSEUDONYMS = Prepared(
    _MATCHABLE.where(User.phone_pseudonym.in_(bindparam("pseudonyms", expanding=True)))
)
_BY_IDS = Prepared(_MATCHABLE.where(User.id.in_(bindparam("ids", expanding=True))))


def _matchable(rows: Sequence[tuple[Any, ...]]) -> list[tuple[int, str, bytes]]:
    return [(user_id, nickname, bytes(pseudonym)) for user_id, nickname, pseudonym in rows]


class ServiceUnavailable(MayknowError):
    """A dependency outside mayknow (the SMS provider) failed."""


@dataclass(frozen=True)
class AuthPolicy:
    code_ttl: timedelta
    code_max_attempts: int
    code_interval: timedelta
    codes_per_number_per_hour: int
    codes_per_address_per_hour: int
    signups_per_address_per_hour: int
    session_max_age: timedelta
    session_idle: timedelta


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    session: Issued


class AccountService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        keys: KeyRing,
        sms: SmsSender,
        consent: ConsentService,
        policy: AuthPolicy,
        region: str,
    ) -> None:
        self.uow, self.clock, self.keys, self.sms = uow, clock, keys, sms
        self.consent, self.policy, self.region = consent, policy, region

    # -- phone numbers -------------------------------------------------------------
    def parse_phone(self, raw: object, field: str = "phone") -> str:
        try:
            return parse_mobile(raw, self.region)
        except InvalidPhone as exc:
            raise InvalidInput(
                "invalid_phone", f"'{field}' is not a mobile number ({exc}).", field=field
            ) from None

    def find_by_phone(self, session: Session, e164: str) -> User | None:
        candidates = list(self.keys.phone_pseudonyms(e164).values())
        return session.scalar(select(User).where(User.phone_pseudonym.in_(candidates)))

    # -- codes ---------------------------------------------------------------------
    def request_code(self, raw_phone: object, address: str) -> int:
        """Send a one-time code. Answers the same whether or not the number is a member."""
        e164 = self.parse_phone(raw_phone)
        pseudonym = self.keys.phone_pseudonym(e164)
        now, p = self.clock.now(), self.policy
        code = new_code()
        with self.uow.write() as session:
            too_many = "Too many codes requested: try again later."
            ratelimit.hit(
                session,
                self._rate_key("code-address", address.encode()),
                now=now,
                window=HOUR,
                limit=p.codes_per_address_per_hour,
                code="rate_limited",
                message=too_many,
            )
            number_key = self._rate_key("code-number", pseudonym)
            ratelimit.hit(
                session,
                number_key,
                now=now,
                window=p.code_interval,
                limit=1,
                code="rate_limited",
                message="A code was just sent: wait a minute.",
            )
            ratelimit.hit(
                session,
                number_key,
                now=now,
                window=HOUR,
                limit=p.codes_per_number_per_hour,
                code="rate_limited",
                message=too_many,
            )
            codes.store(session, self.keys, pseudonym, code, now, p.code_ttl)
        try:
            self.sms.send_code(e164, code)
        except SmsUnavailable as exc:
            raise ServiceUnavailable("sms_unavailable", str(exc)) from None
        return int(p.code_ttl.total_seconds())

    def _rate_key(self, scope: str, value: bytes) -> bytes:
        return self.keys.digest("rate-limit", scope.encode() + b":" + value)

    # -- registration and login ----------------------------------------------------
    def register(
        self,
        raw_phone: object,
        code: object,
        nickname: object,
        accept_policy_version: object,
        address: str,
        channel: str,
    ) -> SignedIn:
        e164 = self.parse_phone(raw_phone)
        try:
            name = clean_nickname(nickname)
        except InvalidNickname as exc:
            raise InvalidInput("invalid_nickname", str(exc), field="nickname") from None
        if accept_policy_version != self.consent.policy_version:
            raise InvalidInput(
                "policy_not_accepted",
                f"Registration needs acceptance of the current policy, version "
                f"{self.consent.policy_version}.",
                field="accept_policy_version",
            )
        code_text = self._code_text(code)
        pseudonyms, now = list(self.keys.phone_pseudonyms(e164).values()), self.clock.now()
        with self.uow.write() as session:
            check = codes.check(
                session, self.keys, pseudonyms, code_text, now, self.policy.code_max_attempts
            )
            if check.row_id is not None:
                return self._create_account(session, e164, name, address, channel, check.row_id)
        raise check.error()

    def _create_account(
        self, session: Session, e164: str, nickname: str, address: str, channel: str, code_id: int
    ) -> SignedIn:
        if self.find_by_phone(session, e164) is not None:
            raise Conflict(
                "phone_already_registered",
                "This number already has an account: log in instead.",
                field="phone",
            )
        now = self.clock.now()
        ratelimit.hit(
            session,
            self._rate_key("signup-address", address.encode()),
            now=now,
            window=HOUR,
            limit=self.policy.signups_per_address_per_hour,
            code="rate_limited",
            message="Too many sign-ups: try again later.",
        )
        user = User(
            id=new_user_id(),
            nickname=nickname,
            phone_pseudonym=self.keys.phone_pseudonym(e164),
            phone_key_version=self.keys.current,
            phone_ciphertext=self.keys.encrypt(e164.encode()),
            audit_ref=new_ref(),
            created_at=now,
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            at=now,
            actor=user.audit_ref,
            action="account_created",
            subject=user.audit_ref,
            details={"channel": channel},
        )
        self.consent.record_account(session, user.id, user.audit_ref, channel)
        codes.consume(session, code_id, now)
        self._note(session, user.id, "register", address)
        issued = sessions.create(session, user.id, channel, now, self.policy.session_max_age)
        return SignedIn(user.id, issued)

    def login(
        self,
        raw_phone: object,
        code: object,
        accept_policy_version: object,
        channel: str,
        address: str = "",
    ) -> SignedIn:
        e164 = self.parse_phone(raw_phone)
        code_text = self._code_text(code)
        pseudonyms, now = list(self.keys.phone_pseudonyms(e164).values()), self.clock.now()
        with self.uow.write() as session:
            check = codes.check(
                session, self.keys, pseudonyms, code_text, now, self.policy.code_max_attempts
            )
            if check.row_id is not None:
                user = self.find_by_phone(session, e164)
                if user is None:
                    raise NotFound(
                        "account_not_found",
                        "No account uses this number: register first.",
                        field="phone",
                    )
                self._ensure_policy(session, user, accept_policy_version, channel)
                codes.consume(session, check.row_id, now)
                self._note(session, user.id, "login", address)
                issued = sessions.create(
                    session, user.id, channel, now, self.policy.session_max_age
                )
                return SignedIn(user.id, issued)
        raise check.error()

    def _ensure_policy(self, session: Session, user: User, accept: object, channel: str) -> None:
        current = self.consent.policy_version
        if self.consent.accepted_version(session, user.id) == current:
            return
        if accept != current:
            raise Conflict(
                "policy_reacceptance_required",
                f"The policy has changed: accept version {current} to continue.",
                field="accept_policy_version",
            )
        self.consent.record_account(session, user.id, user.audit_ref, channel)

    def _note(self, session: Session, user_id: int, kind: str, address: str) -> None:
        """The security log: the one place a raw address outlives its request (7 days)."""
        if address:
            session.add(
                SecurityEvent(user_id=user_id, kind=kind, address=address[:64], at=self.clock.now())
            )

    @staticmethod
    def _code_text(code: object) -> str:
        if not looks_like_code(code):
            raise InvalidInput("invalid_code", "The code must be 6 digits.", field="code")
        assert isinstance(code, str)
        return code

    # -- sessions ------------------------------------------------------------------
    def authenticate(self, token: str) -> Principal | None:
        """The caller of a live session; records that it was seen (at most every few minutes)."""
        principal = self.resolve(token)
        if principal is not None and principal.needs_touch:
            with self.uow.write() as session:
                sessions.touch(session, principal.session_hash, self.clock.now())
        return principal

    def resolve(self, token: str) -> Principal | None:
        """The caller of a live session, read only: ``needs_touch`` says a write is due."""
        with self.uow.lone_read() as connection:
            return sessions.resolve(connection, token, self.clock.now(), self.policy.session_idle)

    def logout(self, principal: Principal) -> None:
        with self.uow.write() as session:
            sessions.revoke(session, principal.session_hash)

    def sign_out(self, principal: Principal, session_id: str) -> None:
        with self.uow.write() as session:
            if not sessions.revoke_by_id(session, principal.user_id, session_id):
                raise NotFound("session_not_found", "There is no such session of yours.")

    def active_sessions(self, principal: Principal) -> list[dict[str, object]]:
        with self.uow.read() as session:
            return sessions.listed(session, principal.user_id)

    # -- profile -------------------------------------------------------------------
    def get(self, session: Session, user_id: int) -> User:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user_not_found", "There is no such account.")
        return user

    def profile(self, principal: Principal) -> dict[str, object]:
        with self.uow.read() as session:
            return self.profile_in(session, principal.user_id)

    def profile_in(self, db: Queryable, user_id: int) -> dict[str, object]:
        row = _PROFILE.one_or_none(db, user_id=user_id)
        if row is None:
            raise NotFound("user_not_found", "There is no such account.")
        found_id, nickname, ciphertext = row
        return {
            "user_id": found_id,
            "nickname": nickname,
            "phone_masked": mask(self._decrypt_phone(ciphertext)),
        }

    def phone_of(self, user: User) -> str:
        """The member's own number, decrypted for this request only."""
        return self._decrypt_phone(user.phone_ciphertext)

    def _decrypt_phone(self, ciphertext: bytes) -> str:
        return self.keys.decrypt(ciphertext).decode()

    @staticmethod
    def lookup_by_pseudonyms(
        session: Session, pseudonyms: Sequence[bytes]
    ) -> list[tuple[int, str, bytes]]:
        """Accounts whose number has one of these pseudonyms: (id, nickname, pseudonym).
        The hot statement of address-book sync (a thousand parameters)."""
        if not pseudonyms:
            return []
        return _matchable(_BY_PSEUDONYMS.all(session, pseudonyms=pseudonyms))

    @staticmethod
    def lookup_by_ids(session: Session, user_ids: Sequence[int]) -> list[tuple[int, str, bytes]]:
        """The same three columns for accounts named by id (those the matching directory
        found): (id, nickname, pseudonym); a deleted account is simply absent."""
        if not user_ids:
            return []
        return _matchable(_BY_IDS.all(session, ids=user_ids))

    def nicknames(self, db: Queryable, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        return dict(_NICKNAMES.all(db, ids=user_ids))

    # -- corrections -----------------------------------------------------------------
    def change_nickname(self, principal: Principal, nickname: object) -> str:
        try:
            name = clean_nickname(nickname)
        except InvalidNickname as exc:
            raise InvalidInput("invalid_nickname", str(exc), field="nickname") from None
        with self.uow.write() as session:
            self.get(session, principal.user_id).nickname = name
            audit.record(
                session,
                at=self.clock.now(),
                actor=principal.subject_ref,
                action="nickname_corrected",
                subject=principal.subject_ref,
            )
        return name

    def change_phone_in(
        self, session: Session, principal: Principal, raw_phone: object, code: object
    ) -> tuple[str, str] | codes.Check:
        """Move the account to a new number proven by a code sent to it.

        Returns (old, new) E.164 on success, or the failed code check, whose wrong try is
        kept when the caller lets the transaction commit.
        """
        e164 = self.parse_phone(raw_phone)
        code_text = self._code_text(code)
        now = self.clock.now()
        pseudonyms = list(self.keys.phone_pseudonyms(e164).values())
        check = codes.check(
            session, self.keys, pseudonyms, code_text, now, self.policy.code_max_attempts
        )
        if check.row_id is None:
            return check
        if self.find_by_phone(session, e164) is not None:
            raise Conflict(
                "phone_already_registered", "That number already has an account.", field="phone"
            )
        user = self.get(session, principal.user_id)
        old = self.phone_of(user)
        user.phone_pseudonym = self.keys.phone_pseudonym(e164)
        user.phone_key_version = self.keys.current
        user.phone_ciphertext = self.keys.encrypt(e164.encode())
        codes.consume(session, check.row_id, now)
        audit.record(
            session,
            at=now,
            actor=principal.subject_ref,
            action="phone_corrected",
            subject=principal.subject_ref,
        )
        return old, e164

    # -- key rotation --------------------------------------------------------------
    def rekey_batch(self, size: int = 500) -> int:
        """Re-key up to ``size`` members still under an older key version; return how many."""
        current = self.keys.current
        with self.uow.write() as session:
            users = session.scalars(
                select(User).where(User.phone_key_version != current).limit(size)
            ).all()
            for user in users:
                e164 = self.phone_of(user)
                user.phone_pseudonym = self.keys.phone_pseudonym(e164, current)
                user.phone_ciphertext = self.keys.encrypt(e164.encode())
                user.phone_key_version = current
            return len(users)

    def key_versions_in_use(self) -> set[int]:
        with self.uow.read() as session:
            return set(session.scalars(select(User.phone_key_version).distinct()))

    # -- the member's rights -------------------------------------------------------
    def export_in(self, session: Session, user_id: int) -> dict[str, object]:
        user = self.get(session, user_id)
        return {
            "account": {
                "user_id": user.id,
                "nickname": user.nickname,
                "phone": self.phone_of(user),
                "created_at": as_utc(user.created_at).isoformat(),
            },
            "sessions": sessions.listed(session, user_id),
            "security_log": [
                {"kind": e.kind, "address": e.address, "at": as_utc(e.at).isoformat()}
                for e in session.scalars(
                    select(SecurityEvent)
                    .where(SecurityEvent.user_id == user_id)
                    .order_by(SecurityEvent.at)
                )
            ],
        }

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]:
        user = self.get(session, user_id)
        pseudonyms = self.keys.phone_pseudonyms(self.phone_of(user)).values()
        erased = {
            "sessions": sessions.erase_for(session, user_id),
            "security_log": affected(
                session, delete(SecurityEvent).where(SecurityEvent.user_id == user_id)
            ),
            "login_codes": sum(codes.erase_for(session, p) for p in pseudonyms),
            "rate_counters": sum(
                ratelimit.erase_key(session, self._rate_key("code-number", p)) for p in pseudonyms
            ),
        }
        session.execute(delete(User).where(User.id == user_id))
        erased["account"] = 1
        return erased

    def purge_expired(self, session: Session, now: datetime) -> dict[str, int]:
        return {
            "sessions": sessions.purge(session, now, self.policy.session_idle),
            "login_codes": codes.purge(session, now - timedelta(hours=24)),
            "rate_counters": ratelimit.purge(session, now - timedelta(hours=24)),
            "security_log": affected(
                session, delete(SecurityEvent).where(SecurityEvent.at < now - timedelta(days=7))
            ),
        }
