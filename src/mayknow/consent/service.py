"""The consent ledger and the privacy settings.

``allows`` answers the one question every other slice asks: may I use S's data for
purpose P now? Withdrawing a purpose runs the erasers that other slices registered for
it, in the same transaction, so what the purpose alone justified is gone at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mayknow.audit import service as audit
from mayknow.consent.domain import (
    ACCOUNT,
    SETTING_DEFAULTS,
    Choice,
    ConsentState,
    Purpose,
    Setting,
    accepted_policy_version,
    current_state,
)
from mayknow.consent.models import ConsentEvent, PrivacySettings
from mayknow.db.ops import affected, insert_for
from mayknow.db.prepared import Prepared
from mayknow.db.uow import Queryable, UnitOfWork
from mayknow.shared.clock import Clock, as_utc
from mayknow.shared.errors import InvalidInput, NotFound

# An eraser removes, inside the caller's transaction, what one purpose alone justified
# for one member, and says how many items it removed under which kind.
Eraser = Callable[[Session, int], Mapping[str, int]]


def _granted_among() -> Select[int]:
    """Who among :ids last chose to grant :purpose. Built once; run on the Core connection."""
    latest = (
        select(ConsentEvent.user_id, func.max(ConsentEvent.id).label("last"))
        .where(
            ConsentEvent.user_id.in_(bindparam("ids", expanding=True)),
            ConsentEvent.purpose == bindparam("purpose"),
        )
        .group_by(ConsentEvent.user_id)
        .subquery()
    )
    return (
        select(ConsentEvent.user_id)
        .join(latest, ConsentEvent.id == latest.c.last)
        .where(ConsentEvent.granted.is_(True))
    )


_GRANTED_AMONG = Prepared(_granted_among())


def _latest_choice(user_id: Any, purpose: Any) -> Select[bool]:
    """The member's latest choice for a purpose: one row, or none if never asked."""
    return (
        select(ConsentEvent.granted)
        .where(ConsentEvent.user_id == user_id, ConsentEvent.purpose == purpose)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )


def granted_now(
    user_id: ColumnElement[int] | InstrumentedAttribute[int], purpose: Purpose
) -> ColumnElement[bool]:
    """The SQL condition "the member ``user_id`` last chose to grant ``purpose``", for
    statements that select many members at once (the matching directory's scan)."""
    return _latest_choice(user_id, purpose.value).scalar_subquery().is_(True)


_LATEST_CHOICE = Prepared(_latest_choice(bindparam("user_id"), bindparam("purpose")))
_TURNED_OFF = {
    setting: Prepared(
        select(PrivacySettings.user_id).where(
            PrivacySettings.user_id.in_(bindparam("ids", expanding=True)),
            getattr(PrivacySettings, setting.value).is_(False),
        )
    )
    for setting in Setting
}
_SETTINGS = Prepared(
    select(*(getattr(PrivacySettings, s.value) for s in Setting)).where(
        PrivacySettings.user_id == bindparam("user_id")
    )
)


def parse_purpose(raw: str) -> Purpose:
    try:
        return Purpose(raw)
    except ValueError:
        raise NotFound("unknown_purpose", "There is no consent purpose by that name.") from None


class ConsentService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        policy_version: str,
        erasers: Mapping[Purpose, Sequence[Eraser]] | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.policy_version = policy_version
        self.erasers: dict[Purpose, list[Eraser]] = {p: list(e) for p, e in (erasers or {}).items()}
        self.granters: dict[Purpose, list[Eraser]] = {}

    def when_withdrawn(self, purpose: Purpose, eraser: Eraser) -> None:
        """Run ``eraser`` in the transaction that withdraws ``purpose``."""
        self.erasers.setdefault(purpose, []).append(eraser)

    def when_granted(self, purpose: Purpose, effect: Eraser) -> None:
        """Run ``effect`` in the transaction that grants ``purpose``."""
        self.granters.setdefault(purpose, []).append(effect)

    # -- reading -------------------------------------------------------------------
    def history(self, session: Session, user_id: int) -> list[Choice]:
        rows = session.scalars(
            select(ConsentEvent).where(ConsentEvent.user_id == user_id).order_by(ConsentEvent.id)
        )
        return [
            Choice(r.purpose, r.granted, r.policy_version, r.channel, as_utc(r.at)) for r in rows
        ]

    def state(self, session: Session, user_id: int) -> dict[str, ConsentState]:
        return current_state(self.history(session, user_id))

    def accepted_version(self, session: Session, user_id: int) -> str | None:
        return accepted_policy_version(self.history(session, user_id))

    def allows_in(self, db: Queryable, user_id: int, purpose: Purpose) -> bool:
        return bool(_LATEST_CHOICE.scalar(db, user_id=user_id, purpose=purpose.value))

    def allows(self, user_id: int, purpose: Purpose) -> bool:
        """May mayknow use ``user_id``'s data for ``purpose`` now?"""
        with self.uow.read() as session:
            return self.allows_in(session, user_id, purpose)

    def granted_among(self, db: Queryable, user_ids: Iterable[int], purpose: Purpose) -> set[int]:
        """The members among ``user_ids`` whose latest choice for ``purpose`` is a grant."""
        ids = list(user_ids)
        if not ids:
            return set()
        return set(_GRANTED_AMONG.scalars(db, ids=ids, purpose=purpose.value))

    # -- changing ------------------------------------------------------------------
    def record_account(
        self, session: Session, user_id: int, subject_ref: str, channel: str
    ) -> None:
        """Registration or re-acceptance: the member accepted this policy version (H3)."""
        self._append(session, user_id, subject_ref, ACCOUNT, True, channel, self.clock.now())

    def set_in(
        self,
        session: Session,
        user_id: int,
        subject_ref: str,
        purpose: Purpose,
        granted: bool,
        channel: str,
    ) -> ConsentState:
        self._settings_row(session, user_id)  # locked: one change of this member at a time
        current = self.state(session, user_id)[purpose.value]
        if current.granted == granted:  # nothing changes, nothing is recorded
            return current
        now = self.clock.now()
        self._append(session, user_id, subject_ref, purpose.value, granted, channel, now)
        if granted:
            for effect in self.granters.get(purpose, ()):
                effect(session, user_id)
        else:
            erased: dict[str, int] = {}
            for eraser in self.erasers.get(purpose, ()):
                for kind, count in eraser(session, user_id).items():
                    erased[kind] = erased.get(kind, 0) + count
            if any(erased.values()):
                audit.record(
                    session,
                    at=now,
                    actor=subject_ref,
                    action="withdrawal_erased",
                    subject=subject_ref,
                    details={"purpose": purpose.value, **erased},
                )
        return ConsentState(granted, now, self.policy_version)

    def change(
        self, user_id: int, subject_ref: str, purpose: Purpose, granted: bool, channel: str
    ) -> ConsentState:
        with self.uow.write() as session:
            return self.set_in(session, user_id, subject_ref, purpose, granted, channel)

    def _append(
        self,
        session: Session,
        user_id: int,
        subject_ref: str,
        purpose: str,
        granted: bool,
        channel: str,
        at: datetime,
    ) -> None:
        session.add(
            ConsentEvent(
                user_id=user_id,
                purpose=purpose,
                granted=granted,
                policy_version=self.policy_version,
                channel=channel,
                at=at,
            )
        )
        audit.record(
            session,
            at=at,
            actor=subject_ref,
            action="consent_granted" if granted else "consent_withdrawn",
            subject=subject_ref,
            details={"purpose": purpose, "channel": channel, "policy_version": self.policy_version},
        )

    # -- settings ------------------------------------------------------------------
    def settings_in(self, db: Queryable, user_id: int) -> dict[str, bool]:
        row = _SETTINGS.one_or_none(db, user_id=user_id)
        if row is None:
            return {s.value: v for s, v in SETTING_DEFAULTS.items()}
        return {s.value: bool(value) for s, value in zip(Setting, row, strict=True)}

    def turned_off_among(
        self, db: Queryable, user_ids: Iterable[int], setting: Setting
    ) -> set[int]:
        """The members among ``user_ids`` who turned ``setting`` off (the rest keep defaults)."""
        ids = list(user_ids)
        if not ids:
            return set()
        return set(_TURNED_OFF[setting].scalars(db, ids=ids))

    def update_settings(
        self, user_id: int, subject_ref: str, changes: Mapping[str, bool]
    ) -> dict[str, bool]:
        unknown = set(changes) - {s.value for s in Setting}
        if unknown:
            raise InvalidInput(
                "unknown_setting", "There is no setting by that name.", field=sorted(unknown)[0]
            )
        with self.uow.write() as session:
            row = self._settings_row(session, user_id)
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = self.clock.now()
            merged = {s.value: bool(getattr(row, s.value)) for s in Setting}
            audit.record(
                session,
                at=row.updated_at,
                actor=subject_ref,
                action="settings_changed",
                subject=subject_ref,
                details=dict(changes),
            )
            return merged

    def _settings_row(self, session: Session, user_id: int) -> PrivacySettings:
        """The member's settings row, created with the defaults if missing, locked until
        the commit: two changes at once (settings or consents, from two devices) neither
        collide on the insert nor undo each other, and a purpose granted twice at once is
        recorded, and its effects run, once."""
        defaults = {s.value: v for s, v in SETTING_DEFAULTS.items()}
        session.execute(
            insert_for(session, PrivacySettings)
            .values(user_id=user_id, updated_at=self.clock.now(), **defaults)
            .on_conflict_do_nothing()
        )
        row = session.get(PrivacySettings, user_id, with_for_update=True, populate_existing=True)
        assert row is not None
        return row

    # -- the member's rights -------------------------------------------------------
    def export_in(self, session: Session, user_id: int) -> dict[str, object]:
        history = self.history(session, user_id)
        return {
            "consents": {p: state_json(s) for p, s in current_state(history).items()},
            "consent_history": [
                {
                    "purpose": c.purpose,
                    "granted": c.granted,
                    "policy_version": c.policy_version,
                    "channel": c.channel,
                    "at": c.at.isoformat(),
                }
                for c in history
            ],
            "settings": self.settings_in(session, user_id),
        }

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]:
        return {
            "consent_records": affected(
                session, delete(ConsentEvent).where(ConsentEvent.user_id == user_id)
            ),
            "settings": affected(
                session, delete(PrivacySettings).where(PrivacySettings.user_id == user_id)
            ),
        }


def state_json(state: ConsentState) -> dict[str, object]:
    return {
        "granted": state.granted,
        "at": state.at.isoformat() if state.at else None,
        "policy_version": state.policy_version,
    }
