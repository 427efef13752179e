"""Reading and writing the partners tables, inside the transaction a service opened."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from mayknow.db.ops import affected
from mayknow.partners.domain import PartnerInfo, digest
from mayknow.partners.models import EgressRecord, Partner, PartnerCode, PartnerGrant, PartnerToken
from mayknow.partners.oauth import Owner, Params, StoredCode
from mayknow.shared.clock import Clock, as_utc


def info(row: Partner) -> PartnerInfo:
    uris = tuple(json.loads(row.redirect_uris))
    return PartnerInfo(row.id, row.name, uris, frozenset(row.categories.split()))


def partner(session: Session, partner_id: str) -> PartnerInfo | None:
    row = session.get(Partner, partner_id)
    return None if row is None else info(row)


def names(session: Session, partner_ids: Iterable[str]) -> dict[str, str]:
    ids = set(partner_ids)
    if not ids:
        return {}
    return dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all())


def add_partner(session: Session, partner: PartnerInfo, now: datetime) -> None:
    session.add(
        Partner(
            id=partner.id,
            name=partner.name,
            redirect_uris=json.dumps(list(partner.redirect_uris)),
            categories=" ".join(sorted(partner.categories)),
            created_at=now,
            subject_key=secrets.token_bytes(32),
        )
    )


def subject_key(session: Session, partner_id: str) -> bytes:
    key = session.scalar(select(Partner.subject_key).where(Partner.id == partner_id))
    assert key is not None  # a token names a registered partner (deleting one cascades)
    return key


def sharing_with(
    session: Session, partner_id: str, user_ids: Iterable[int], category: str
) -> set[int]:
    """Those of ``user_ids`` whose active grant to the partner covers ``category``."""
    ids = list(user_ids)
    if not ids:
        return set()
    rows = session.execute(
        select(PartnerGrant.user_id, PartnerGrant.categories).where(
            PartnerGrant.partner_id == partner_id,
            PartnerGrant.user_id.in_(ids),
            PartnerGrant.revoked_at.is_(None),
        )
    )
    return {user_id for user_id, categories in rows if category in categories.split()}


class SessionStore:
    """What Authlib's server stores and finds, in one session (oauth.Store)."""

    def __init__(self, session: Session, clock: Clock, code_lifetime: timedelta) -> None:
        self.session, self.clock, self.code_lifetime = session, clock, code_lifetime
        self.issued: int = 0

    def partner(self, partner_id: str) -> PartnerInfo | None:
        return partner(self.session, partner_id)

    def save_code(self, code: str, partner_id: str, owner: Owner, request: Params) -> None:
        now = self.clock.now()
        self.session.add(
            PartnerCode(
                code_hash=digest(code),
                partner_id=partner_id,
                user_id=owner.user_id,
                redirect_uri=request.redirect_uri,
                scope=owner.scope,
                code_challenge=request.code_challenge,
                code_challenge_method=request.code_challenge_method,
                created_at=now,
                expires_at=now + self.code_lifetime,
            )
        )
        self.issued += 1

    def find_code(self, code: str, partner_id: str) -> StoredCode | None:
        row = self.session.get(PartnerCode, digest(code), with_for_update=True)
        if row is None:
            return None
        if row.used_at is not None:  # RFC 6749 §4.1.2: a replay revokes what the code issued
            self.session.execute(
                delete(PartnerToken).where(PartnerToken.code_hash == row.code_hash)
            )
            return None
        if row.partner_id != partner_id or as_utc(row.expires_at) <= self.clock.now():
            return None
        return StoredCode(
            row.code_hash,
            row.user_id,
            row.redirect_uri,
            row.scope,
            row.code_challenge,
            row.code_challenge_method,
        )

    def spend_code(self, code_hash: bytes) -> None:
        self.session.execute(
            update(PartnerCode)
            .where(PartnerCode.code_hash == code_hash)
            .values(used_at=self.clock.now())
        )

    def save_token(
        self, token: str, partner_id: str, code: StoredCode, scope: str, expires_in: int
    ) -> None:
        now = self.clock.now()
        self.session.add(
            PartnerToken(
                token_hash=digest(token),
                partner_id=partner_id,
                user_id=code.user_id,
                code_hash=code.code_hash,
                scope=scope,
                issued_at=now,
                expires_at=now + timedelta(seconds=expires_in),
            )
        )


# -- grants ------------------------------------------------------------------------
def _of(
    model: type[PartnerGrant | PartnerToken | PartnerCode], user_id: int, partner_id: str | None
) -> list[ColumnElement[bool]]:
    conditions = [model.user_id == user_id]
    if partner_id is not None:
        conditions.append(model.partner_id == partner_id)
    return conditions


def active_grants(
    session: Session, user_id: int, partner_id: str | None = None
) -> list[PartnerGrant]:
    query = (
        select(PartnerGrant)
        .where(*_of(PartnerGrant, user_id, partner_id), PartnerGrant.revoked_at.is_(None))
        .order_by(PartnerGrant.id)
    )
    return list(session.scalars(query))


def granted(session: Session, user_id: int, partner_id: str) -> set[str]:
    return {c for g in active_grants(session, user_id, partner_id) for c in g.categories.split()}


def add_grant(
    session: Session, user_id: int, partner_id: str, categories: list[str], now: datetime
) -> None:
    """Replace the active grant with one for ``categories`` (the old row stays, revoked)."""
    revoke_grants(session, user_id, partner_id, now)
    session.add(
        PartnerGrant(
            user_id=user_id, partner_id=partner_id, categories=" ".join(categories), granted_at=now
        )
    )


def revoke_grants(session: Session, user_id: int, partner_id: str | None, now: datetime) -> int:
    return affected(
        session,
        update(PartnerGrant)
        .where(*_of(PartnerGrant, user_id, partner_id), PartnerGrant.revoked_at.is_(None))
        .values(revoked_at=now),
    )


def all_grants(session: Session, user_id: int) -> list[PartnerGrant]:
    query = select(PartnerGrant).where(PartnerGrant.user_id == user_id).order_by(PartnerGrant.id)
    return list(session.scalars(query))


# -- codes and tokens --------------------------------------------------------------
def token(session: Session, secret: str, now: datetime) -> PartnerToken | None:
    row = session.get(PartnerToken, digest(secret))
    if row is None or as_utc(row.expires_at) <= now:
        return None
    return row


def drop_access(session: Session, user_id: int, partner_id: str | None) -> dict[str, int]:
    """Every token and code of the member (for one partner, or for all) goes at once."""
    tokens = delete(PartnerToken).where(*_of(PartnerToken, user_id, partner_id))
    codes = delete(PartnerCode).where(*_of(PartnerCode, user_id, partner_id))
    return {"partner_tokens": affected(session, tokens), "partner_codes": affected(session, codes)}


def purge(session: Session, now: datetime, spent_code_life: timedelta) -> dict[str, int]:
    """Expired tokens; codes once a replay could no longer revoke a live token."""
    tokens = delete(PartnerToken).where(PartnerToken.expires_at <= now)
    codes = delete(PartnerCode).where(PartnerCode.expires_at <= now - spent_code_life)
    return {"partner_tokens": affected(session, tokens), "partner_codes": affected(session, codes)}


# -- the egress ledger -------------------------------------------------------------
def record_egress(
    session: Session,
    user_id: int,
    partner_id: str,
    categories: list[str],
    count: int,
    now: datetime,
) -> None:
    session.add(
        EgressRecord(
            user_id=user_id,
            partner_id=partner_id,
            categories=" ".join(categories),
            count=count,
            at=now,
        )
    )


def egress(session: Session, user_id: int) -> list[EgressRecord]:
    query = select(EgressRecord).where(EgressRecord.user_id == user_id).order_by(EgressRecord.id)
    return list(session.scalars(query))


def erase(session: Session, user_id: int) -> dict[str, int]:
    erased = drop_access(session, user_id, None)
    erased["partner_grants"] = affected(
        session, delete(PartnerGrant).where(PartnerGrant.user_id == user_id)
    )
    erased["partner_egress"] = affected(
        session, delete(EgressRecord).where(EgressRecord.user_id == user_id)
    )
    return erased
