"""The matching directory: each server process's in-memory index of who is findable by
phone, so that the numbers of an address book that match nobody (most of them) are
answered without asking the store.

What it holds: for every member whose latest choice for ``discoverable_by_phone`` is a
grant, the first 8 bytes of the keyed pseudonym of their number and their account id, in
two sorted arrays (16 bytes a member: 160 MB at 10M). It is read from the store's users,
so it never holds anything about a number that is not a member's.

How it stays exact: every change of who is findable under which pseudonym (a grant or a
withdrawal of ``discoverable_by_phone``, a new number) appends the account id to the
store's directory log in the transaction of the change, under the lock of the log's head,
so the order of the log is the order of the commits. Before each match a process reads
the log past what it has applied and re-reads those members. A hit is confirmed by the
store: the caller reads the full pseudonym and the nickname by account id, so a prefix
collision, a deleted account (its log rows go with it) or a stale entry never becomes a
match. A key rotation changes which pseudonyms a number has: the directory rebuilds when
the key ring's versions change, and until it is rebuilt the caller matches through the
store, as it does when the directory is switched off (``MAYKNOW_MATCH_DIRECTORY``).
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from mayknow.accounts.models import User
from mayknow.consent.domain import Purpose
from mayknow.consent.service import granted_now
from mayknow.contacts.models import DirectoryChange, DirectoryHead
from mayknow.db.ops import affected
from mayknow.db.prepared import Prepared
from mayknow.db.uow import UnitOfWork
from mayknow.identity.keyring import KeyRing

log = logging.getLogger("mayknow.directory")

PREFIX_BYTES = 8
SCAN_BATCH = 20_000
MAX_CHANGED = 100_000  # members changed since the build, kept beside the sorted arrays
RETRY_SECONDS = 30.0

_FINDABLE = select(User.id, User.phone_pseudonym).where(
    granted_now(User.id, Purpose.DISCOVERABLE_BY_PHONE)
)
# In account order: on SQLite the table's own order, so that the consent ledger (indexed
# by account) is read in order too, not at random as a scan of the pseudonym index would.
_ALL_FINDABLE = Prepared(_FINDABLE.order_by(User.id))
_FINDABLE_AMONG = Prepared(_FINDABLE.where(User.id.in_(bindparam("ids", expanding=True))))
_HEAD = Prepared(
    select(DirectoryHead.seq, DirectoryHead.purged_through).where(DirectoryHead.id == 1)
)
_CHANGED_SINCE = Prepared(
    select(DirectoryChange.seq, DirectoryChange.user_id).where(
        DirectoryChange.seq > bindparam("since")
    )
)


# -- the log, written by the changes -----------------------------------------------
def record_change(session: Session, user_id: int, now: datetime) -> None:
    """``user_id`` may have become findable, or stopped being, or changed number.

    Takes the head's row lock until the commit, after the audit head (a consent change
    and a number change both write their audit event first): always in that order."""
    seq = session.execute(
        update(DirectoryHead)
        .where(DirectoryHead.id == 1)
        .values(seq=DirectoryHead.seq + 1)
        .returning(DirectoryHead.seq)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    session.execute(insert(DirectoryChange).values(seq=seq, user_id=user_id, at=now))


def purge_changes(session: Session, before: datetime) -> int:
    """Forget log rows older than ``before``; a process that had not read them rebuilds."""
    newest = session.scalar(
        select(func.max(DirectoryChange.seq)).where(DirectoryChange.at < before)
    )
    if newest is None:
        return 0
    removed = affected(session, delete(DirectoryChange).where(DirectoryChange.seq <= newest))
    session.execute(
        update(DirectoryHead)
        .where(DirectoryHead.id == 1, DirectoryHead.purged_through < newest)
        .values(purged_through=newest)
        .execution_options(synchronize_session=False)
    )
    return removed


# -- the index, held by each process -------------------------------------------------
def prefixes(pseudonyms: Collection[bytes]) -> np.ndarray:
    """The first 8 bytes of each pseudonym as one unsigned integer (machine order)."""
    joined = b"".join(p[:PREFIX_BYTES] for p in pseudonyms)
    return np.frombuffer(joined, dtype=np.uint64)


@dataclass
class Index:
    keys: np.ndarray  # sorted prefixes (uint64)
    ids: np.ndarray  # the account id of each prefix (int64)
    starts: np.ndarray  # where each bucket (the keys' top bits) starts in ``keys``
    shift: np.uint64  # 64 minus the bits that name a bucket
    versions: tuple[int, ...]  # the key ring's versions when it was built
    seq: int  # the last log entry it reflects
    changed: dict[int, int | None] = field(default_factory=dict)  # id -> prefix now, or None
    added: dict[int, set[int]] = field(default_factory=dict)  # prefix -> ids, since the build

    @classmethod
    def of(cls, ids: np.ndarray, keys: np.ndarray, versions: tuple[int, ...], seq: int) -> Index:
        """Sorted, with a table of bucket starts: a look-up reads one entry of the table and
        a few neighbouring keys, where a binary search over 10M keys would wait on memory
        two dozen times."""
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order]
        bits = max(1, len(keys).bit_length() - 3)  # 4 to 8 keys a bucket
        shift = np.uint64(64 - bits)
        buckets = np.arange(2**bits + 1, dtype=np.uint64)
        starts = np.searchsorted(keys >> shift, buckets).astype(np.int64)
        return cls(keys, ids, starts, shift, versions, seq)

    def lookup(self, queries: np.ndarray) -> set[int]:
        """The account ids findable under any of these prefixes."""
        buckets = (queries >> self.shift).astype(np.int64)
        low, high = self.starts[buckets], self.starts[buckets + 1]
        width = int((high - low).max()) if len(queries) else 0
        found: set[int] = set()
        if width:
            at = low[:, None] + np.arange(width)  # every key of each query's bucket
            inside = at < high[:, None]
            at = np.where(inside, at, 0)
            hit = inside & (self.keys[at] == queries[:, None])
            found.update(self.ids[at[hit]].tolist())
        if self.changed:
            found = {user_id for user_id in found if user_id not in self.changed}
            for prefix in queries.tolist():
                found.update(self.added.get(prefix, ()))
        return found

    def apply(self, user_id: int, prefix: int | None) -> None:
        """``user_id`` is now findable under ``prefix``, or (None) not at all."""
        before = self.changed.get(user_id)
        if before is not None:
            holders = self.added[before]
            holders.discard(user_id)
            if not holders:
                del self.added[before]
        self.changed[user_id] = prefix
        if prefix is not None:
            self.added.setdefault(prefix, set()).add(user_id)


class Directory:
    """The process's directory: built before the server takes requests, then kept exact
    from the log; rebuilt in the background when it cannot be."""

    def __init__(self, keys: KeyRing, enabled: bool = True) -> None:
        self.keys, self.enabled = keys, enabled
        self._index: Index | None = None
        self._uow: UnitOfWork | None = None
        self._lock = threading.RLock()  # a catch-up may start a rebuild
        self._builder: threading.Thread | None = None
        self._failed_at = -RETRY_SECONDS

    @property
    def ready(self) -> bool:
        return self._index is not None

    def build(self, uow: UnitOfWork) -> None:
        """Build it now, in this thread; later rebuilds use the same unit of work."""
        if not self.enabled:
            return
        self._uow = uow
        index = self._scan(uow)
        with self._lock:
            self._index = index

    def candidates(self, session: Session, pseudonyms: Collection[bytes]) -> set[int] | None:
        """Who may own one of these pseudonyms and is findable, as of the caller's view of
        the store; None when the directory cannot answer and the store must.

        Reads the log in the caller's transaction, which must not itself have written to
        the log (its changes would be taken in before it commits)."""
        if self._index is None:
            self._rebuild_later()
            return None
        if self._index.versions != tuple(self.keys.versions):
            self._rebuild_later(drop=True)
            return None
        queries = prefixes(pseudonyms)
        with self._lock:
            index = self._index
            if index is None or not self._catch_up(session, index):
                return None
            found = index.lookup(queries)
        if len(index.changed) > MAX_CHANGED:
            self._rebuild_later()  # fold the changes in; this index stays exact meanwhile
        return found

    def _catch_up(self, session: Session, index: Index) -> bool:
        seq, purged = _HEAD.one_or_none(session) or (0, 0)
        if purged > index.seq:  # the log no longer reaches back to this index
            self._rebuild_later(drop=True)
            return False
        if seq <= index.seq:
            return True
        changes = _CHANGED_SINCE.all(session, since=index.seq)
        ids = sorted({user_id for _, user_id in changes})
        now: dict[int, bytes] = dict(_FINDABLE_AMONG.all(session, ids=ids)) if ids else {}
        for user_id in ids:
            pseudonym = now.get(user_id)
            index.apply(user_id, None if pseudonym is None else int(prefixes([pseudonym])[0]))
        index.seq = max([seq, *(s for s, _ in changes)])
        return True

    def _scan(self, uow: UnitOfWork) -> Index:
        started = time.monotonic()
        versions = tuple(self.keys.versions)
        keys, ids = array("B"), array("q")
        with uow.read() as session:
            seq = (_HEAD.one_or_none(session) or (0, 0))[0]  # before the scan: never ahead
            for rows in _ALL_FINDABLE.batches(session, SCAN_BATCH):
                keys.frombytes(b"".join(bytes(p[:PREFIX_BYTES]) for _, p in rows))
                ids.extend(user_id for user_id, _ in rows)
        index = Index.of(
            np.frombuffer(ids, dtype=np.int64), np.frombuffer(keys, dtype=np.uint64), versions, seq
        )
        log.info(
            "matching directory ready: %d members in %.1f s",
            len(index.keys),
            time.monotonic() - started,
        )
        return index

    def _rebuild_later(self, drop: bool = False) -> None:
        """Start a rebuild in a background thread, unless one runs or one failed lately."""
        with self._lock:
            if drop:
                self._index = None
            busy = self._builder is not None and self._builder.is_alive()
            if self._uow is None or busy or time.monotonic() - self._failed_at < RETRY_SECONDS:
                return
            self._builder = threading.Thread(
                target=self._rebuild, args=(self._uow,), name="mayknow-directory", daemon=True
            )
            self._builder.start()

    def _rebuild(self, uow: UnitOfWork) -> None:
        try:
            index = self._scan(uow)
        except Exception as exc:  # keep matching through the store; try again later
            log.warning("matching directory rebuild failed: %s", type(exc).__name__)
            self._failed_at = time.monotonic()
            return
        with self._lock:
            self._index = index
