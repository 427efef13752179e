"""Address-book sync: match in memory, keep only matched edges, discard everything else.

A number that matches no discoverable account leaves no trace: it is parsed, keyed,
looked up with bound parameters inside one transaction, and forgotten when the request
ends. Only (uploader, account) edges are written, and only while both consents hold.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from mayknow.accounts.service import AccountService
from mayknow.accounts.sessions import Principal
from mayknow.consent.domain import Purpose
from mayknow.consent.service import ConsentService
from mayknow.contacts import directory, discovery
from mayknow.contacts.directory import Directory
from mayknow.contacts.domain import Bucket, ParsedBook, parse_book, set_token
from mayknow.contacts.models import ContactEdge, DiscoveryQuota
from mayknow.db.ops import affected, insert_for
from mayknow.db.prepared import Prepared, PreparedInsert
from mayknow.db.uow import Queryable, UnitOfWork
from mayknow.identity.keyring import KeyRing
from mayknow.identity.phone import parse_mobile
from mayknow.shared.clock import Clock, as_utc
from mayknow.shared.errors import (
    Forbidden,
    InvalidInput,
    MayknowError,
    NotFound,
    RateLimited,
    TooLarge,
)

LOOKUP_CHUNK = 4000
_ADD_EDGES = PreparedInsert(ContactEdge.__table__)  # type: ignore[arg-type]
_CONTACTS_OF = Prepared(
    select(ContactEdge.contact_id).where(ContactEdge.uploader_id == bindparam("user_id"))
)
_UPLOADERS_HOLDING = Prepared(
    select(ContactEdge.uploader_id).where(ContactEdge.contact_id == bindparam("user_id"))
)
CHANGE_LOG_LIFE = timedelta(days=30)
DIRECTORY_LOG_LIFE = timedelta(days=1)


@dataclass(frozen=True)
class SyncLimits:
    max_numbers: int
    quota: Bucket


@dataclass(frozen=True)
class QuotaProof:
    """The client's secret and the exact set it synced last time (Signal's scheme)."""

    secret: str
    previous: Sequence[object]


@dataclass(frozen=True)
class SyncResult:
    matched: list[dict[str, object]]
    discarded: int
    invalid: list[int]
    removed: int
    quota_remaining: int


class ContactService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        keys: KeyRing,
        consent: ConsentService,
        accounts: AccountService,
        limits: SyncLimits,
        directory: Directory | None = None,
    ) -> None:
        self.uow, self.clock, self.keys = uow, clock, keys
        self.consent, self.accounts, self.limits = consent, accounts, limits
        self.directory = directory or Directory(keys, enabled=False)

    # -- sync ----------------------------------------------------------------------
    def sync(
        self, caller: Principal, phones: Sequence[object], proof: QuotaProof | None
    ) -> SyncResult:
        """Full sync: the upload replaces the caller's edges; edges to numbers gone are removed."""
        self._check_size("phones", phones)
        with self.uow.write() as session:
            self.require_upload_consent(session, caller)
            book = self._parse(session, caller, phones)
            previous = self._proven_previous(session, caller, proof) or set()
            remaining = self.take_permits(session, caller, len(set(book.numbers) - previous))
            self._store_token(session, caller, proof, set(book.numbers))
            matches = self._match(session, book.numbers)
            existing = self.edge_ids(session, caller.user_id)
            wanted = {user_id for user_id, _ in matches.values()}
            removed = self.remove_edges(session, caller.user_id, existing - wanted)
            self.add_edges(session, caller.user_id, wanted - existing, "sync")
        return self._result(book, matches, removed, remaining)

    def sync_delta(
        self,
        caller: Principal,
        add: Sequence[object],
        remove: Sequence[object],
        proof: QuotaProof | None,
    ) -> SyncResult:
        """Delta sync: match ``add``, drop the edges to the numbers in ``remove``."""
        self._check_size("add", add)
        self._check_size("remove", remove)
        with self.uow.write() as session:
            self.require_upload_consent(session, caller)
            book = self._parse(session, caller, add)
            gone = self._parse_strict(remove, "remove")
            previous = self._proven_previous(session, caller, proof)
            remaining = self.take_permits(
                session, caller, len(set(book.numbers) - (previous or set()))
            )
            new_set = None if previous is None else (previous | set(book.numbers)) - gone
            self._store_token(session, caller, proof, new_set)
            gone_ids = {
                user_id for user_id, _ in self._match(session, dict.fromkeys(gone, 0)).values()
            }
            removed = self.remove_edges(session, caller.user_id, gone_ids)
            matches = self._match(session, book.numbers)
            new = {user_id for user_id, _ in matches.values()} - self.edge_ids(
                session, caller.user_id
            )
            self.add_edges(session, caller.user_id, new, "sync")
        return self._result(book, matches, removed, remaining)

    def _check_size(self, field: str, entries: Sequence[object]) -> None:
        if len(entries) > self.limits.max_numbers:
            raise TooLarge(
                "too_many_numbers",
                f"'{field}' holds more than {self.limits.max_numbers} numbers: send it in parts.",
                field=field,
            )

    def require_upload_consent(self, session: Session, caller: Principal) -> None:
        if not self.consent.allows_in(session, caller.user_id, Purpose.CONTACTS_UPLOAD):
            raise Forbidden(
                "consent_required",
                "Uploading an address book needs your consent to 'contacts_upload'.",
                field="contacts_upload",
            )

    def _parse(self, session: Session, caller: Principal, entries: Sequence[object]) -> ParsedBook:
        own = self.accounts.phone_of(self.accounts.get(session, caller.user_id))
        return parse_book(entries, lambda raw: parse_mobile(raw, self.accounts.region), own)

    def _parse_strict(self, entries: Sequence[object], field: str) -> set[str]:
        numbers = set()
        for index, raw in enumerate(entries):
            numbers.add(self.accounts.parse_phone(raw, field=f"{field}[{index}]"))
        return numbers

    # -- matching ------------------------------------------------------------------
    def _match(self, session: Session, numbers: dict[str, int]) -> dict[str, tuple[int, str]]:
        """E.164 -> (account, nickname) for the numbers of discoverable accounts; in memory.

        The process's matching directory names the few accounts worth reading; without
        it (switched off, or rebuilding) every pseudonym is looked up in the store."""
        by_pseudonym = self.keys.pseudonyms_of(numbers)
        candidates = self.directory.candidates(session, by_pseudonym)
        if candidates is not None:
            rows = self.accounts.lookup_by_ids(session, sorted(candidates))
            return {
                by_pseudonym[pseudonym]: (user_id, nickname)
                for user_id, nickname, pseudonym in rows
                if pseudonym in by_pseudonym  # the whole pseudonym, not just its prefix
            }
        found: dict[int, tuple[str, str]] = {}
        keys = list(by_pseudonym)
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            for user_id, nickname, pseudonym in self.accounts.lookup_by_pseudonyms(session, chunk):
                found[user_id] = (by_pseudonym[pseudonym], nickname)
        discoverable = self.consent.granted_among(session, found, Purpose.DISCOVERABLE_BY_PHONE)
        return {e164: (uid, name) for uid, (e164, name) in found.items() if uid in discoverable}

    # -- the quota -----------------------------------------------------------------
    def _proven_previous(
        self, session: Session, caller: Principal, proof: QuotaProof | None
    ) -> set[str] | None:
        """The previous set, if the proof matches the stored token digest; else None."""
        if proof is None:
            return None
        self._check_size("quota.previous", proof.previous)
        previous = set()
        for raw in proof.previous:
            try:
                previous.add(self.accounts.parse_phone(raw))
            except MayknowError:
                continue  # it was discarded as invalid last time too
        row = session.get(DiscoveryQuota, caller.user_id)
        if row is None or row.token_digest is None:
            return None
        token = set_token(_secret(proof.secret), previous)
        if row.token_digest not in self.keys.digests("quota-token", token):
            return None  # a digest under any key version counts: rotation costs no permits
        return previous

    def _token_digest(self, secret: bytes, numbers: set[str]) -> bytes:
        return self.keys.digest("quota-token", set_token(secret, numbers))

    def take_permits(self, session: Session, caller: Principal, charge: int) -> int:
        """Take ``charge`` permits; raise RateLimited (nothing applied) when too few are left."""
        now = self.clock.now()
        bucket = self.limits.quota
        row = self._quota_row(session, caller.user_id)
        permits, row.refilled_at = bucket.refill(row.permits, as_utc(row.refilled_at), now)
        if charge > permits:
            raise RateLimited(
                "quota_exceeded",
                f"This request holds {charge} new numbers and {permits} may be looked up now.",
                retry_after=bucket.wait_for(charge - permits),
            )
        row.permits = permits - charge
        return row.permits

    def _quota_row(self, session: Session, user_id: int) -> DiscoveryQuota:
        """The member's quota row, created full on first use, locked until the commit.

        Created with ON CONFLICT DO NOTHING and then locked: two first syncs at once on
        PostgreSQL would otherwise both insert it, and one would fail."""
        row = session.get(DiscoveryQuota, user_id, with_for_update=True)
        if row is None:
            full = {"permits": self.limits.quota.capacity, "refilled_at": self.clock.now()}
            session.execute(
                insert_for(session, DiscoveryQuota)
                .values(user_id=user_id, **full)
                .on_conflict_do_nothing()
            )
            row = session.get(DiscoveryQuota, user_id, with_for_update=True)
            assert row is not None
        return row

    def _store_token(
        self,
        session: Session,
        caller: Principal,
        proof: QuotaProof | None,
        numbers: set[str] | None,
    ) -> None:
        """Keep the digest of the token over the set the client now holds (or forget it)."""
        if proof is not None:
            row = self._quota_row(session, caller.user_id)
            row.token_digest = (
                None if numbers is None else self._token_digest(_secret(proof.secret), numbers)
            )

    # -- edges ---------------------------------------------------------------------
    @staticmethod
    def edge_ids(db: Queryable, uploader: int) -> set[int]:
        return set(ContactService.contacts_of(db, uploader))

    @staticmethod
    def remove_edges(session: Session, uploader: int, contacts: set[int]) -> int:
        if not contacts:
            return 0
        return affected(
            session,
            delete(ContactEdge).where(
                ContactEdge.uploader_id == uploader, ContactEdge.contact_id.in_(contacts)
            ),
        )

    def add_edges(self, session: Session, uploader: int, contacts: set[int], source: str) -> None:
        if contacts:
            now = self.clock.now()
            rows = [
                {"uploader_id": uploader, "contact_id": c, "source": source, "created_at": now}
                for c in sorted(contacts)
            ]
            _ADD_EDGES.many(session, rows)

    @staticmethod
    def _result(
        book: ParsedBook, matches: dict[str, tuple[int, str]], removed: int, remaining: int
    ) -> SyncResult:
        matched = sorted(
            (
                {"index": book.numbers[e164], "user_id": uid, "nickname": name}
                for e164, (uid, name) in matches.items()
            ),
            key=lambda m: int(str(m["index"])),
        )
        return SyncResult(
            matched, len(book.numbers) - len(matched), book.invalid, removed, remaining
        )

    def delete_all(self, caller: Principal) -> int:
        with self.uow.write() as session:
            return self.erase_uploads(session, caller.user_id)["contact_edges"]

    def delete_one(self, caller: Principal, contact_id: int) -> None:
        with self.uow.write() as session:
            if not self.remove_edges(session, caller.user_id, {contact_id}):
                raise NotFound(
                    "edge_not_found", "No match from your address book points at that account."
                )

    # -- reading, for suggestions ---------------------------------------------------
    @staticmethod
    def contacts_of(db: Queryable, uploader: int) -> list[int]:
        """Members whose numbers are in ``uploader``'s address book."""
        return _CONTACTS_OF.scalars(db, user_id=uploader)

    @staticmethod
    def uploaders_holding(db: Queryable, contact: int) -> list[int]:
        """Members whose address books hold ``contact``'s number."""
        return _UPLOADERS_HOLDING.scalars(db, user_id=contact)

    def erase_incoming_one(self, caller: Principal, uploader_id: int) -> None:
        """The contact's side (H5): erase the link from one uploader's book to the caller.

        Idempotent, and silent about whether there was a link: answering "no such link"
        would let a member learn, id by id, whose address books hold their number, even
        where the uploader has not agreed to be suggested to their contacts."""
        with self.uow.write() as session:
            self.remove_edges(session, uploader_id, {caller.user_id})

    # -- consent effects -----------------------------------------------------------
    def erase_uploads(self, session: Session, user_id: int) -> dict[str, int]:
        """``contacts_upload`` withdrawn: every edge from the member's uploads goes."""
        edges = delete(ContactEdge).where(ContactEdge.uploader_id == user_id)
        return {"contact_edges": affected(session, edges)}

    def erase_incoming(self, session: Session, user_id: int) -> dict[str, int]:
        """``discoverable_by_phone`` withdrawn: every edge to the member and their tag go,
        and the matching directories of all processes forget them."""
        erased = self._erase_incoming(session, user_id)
        directory.record_change(session, user_id, self.clock.now())
        return erased

    def _erase_incoming(self, session: Session, user_id: int) -> dict[str, int]:
        edges = delete(ContactEdge).where(ContactEdge.contact_id == user_id)
        return {
            "contact_edges": affected(session, edges),
            "discovery_tags": discovery.remove_tag(session, user_id, self.clock.now()),
        }

    def after_phone_change(self, session: Session, user_id: int) -> dict[str, int]:
        """Links to the old number go (their uploaders had that number); the tag and the
        directory entry follow the new number."""
        erased = self._erase_incoming(session, user_id)
        if self.consent.allows_in(session, user_id, Purpose.DISCOVERABLE_BY_PHONE):
            self._add_tag(session, user_id)
        directory.record_change(session, user_id, self.clock.now())
        return erased

    def become_findable(self, session: Session, user_id: int) -> dict[str, int]:
        """``discoverable_by_phone`` granted: the member enters the private-discovery filter
        and the matching directories."""
        self._add_tag(session, user_id)
        directory.record_change(session, user_id, self.clock.now())
        return {}

    def _add_tag(self, session: Session, user_id: int) -> None:
        user = self.accounts.get(session, user_id)
        discovery.add_tag(
            session, self.keys, user_id, self.accounts.phone_of(user), self.clock.now()
        )

    def purge_expired(self, session: Session, now: datetime) -> dict[str, int]:
        """The filter's change log lives 30 days (older clients download the whole filter);
        the directory's log one day (a process that slept longer rebuilds)."""
        return {
            "discovery_changes": discovery.purge_changes(session, now - CHANGE_LOG_LIFE),
            "directory_changes": directory.purge_changes(session, now - DIRECTORY_LOG_LIFE),
        }

    # -- the member's rights -------------------------------------------------------
    def export_in(self, session: Session, user_id: int) -> dict[str, object]:
        uploaded = session.execute(
            select(ContactEdge.contact_id, ContactEdge.created_at).where(
                ContactEdge.uploader_id == user_id
            )
        ).all()
        incoming = session.execute(
            select(ContactEdge.uploader_id, ContactEdge.created_at).where(
                ContactEdge.contact_id == user_id
            )
        ).all()
        # H5: the edge is the contact's data too, as far as the uploader agreed to show it.
        visible = self.consent.granted_among(
            session, [row[0] for row in incoming], Purpose.SUGGEST_ME_TO_MY_CONTACTS
        )
        quota = session.get(DiscoveryQuota, user_id)
        return {
            "address_book_matches": [_edge_json(row[0], row[1]) for row in uploaded],
            "in_address_books_of": [_edge_json(r[0], r[1]) for r in incoming if r[0] in visible],
            "in_address_books_of_others_hidden": len(incoming) - len(visible),
            "discovery_quota": {"permits": quota.permits} if quota else None,
        }

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]:
        # No directory log entry: the account's log rows go with it, and a directory that
        # still holds its prefix finds no account to confirm the match.
        erased = self.erase_uploads(session, user_id)
        incoming = self._erase_incoming(session, user_id)
        quota = delete(DiscoveryQuota).where(DiscoveryQuota.user_id == user_id)
        return {
            "contact_edges": erased["contact_edges"] + incoming["contact_edges"],
            "discovery_tags": incoming["discovery_tags"],
            "discovery_quota": affected(session, quota),
        }


def _edge_json(user_id: int, since: datetime) -> dict[str, object]:
    return {"user_id": user_id, "since": as_utc(since).isoformat()}


def _secret(raw: str) -> bytes:
    try:
        secret = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != 32:
        raise InvalidInput(
            "invalid_quota_secret",
            "'quota.secret' must be 32 bytes in base64.",
            field="quota.secret",
        )
    return secret
