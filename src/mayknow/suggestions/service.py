"""People you may know: every source with its reason, filtered at read time.

Contact and follow sources are read per request, so they are never stale; friend-of-
friend candidates come from the batch job's table. Consents, settings, follows, blocks
and dismissals are applied on every request, so a change takes effect at the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import Session

from mayknow.accounts.service import AccountService
from mayknow.accounts.sessions import Principal
from mayknow.consent.domain import Purpose, Setting
from mayknow.consent.service import ConsentService
from mayknow.contacts.service import ContactService
from mayknow.db.ops import affected, insert_for
from mayknow.db.prepared import Prepared
from mayknow.db.uow import Queryable, UnitOfWork
from mayknow.graph.service import GraphService
from mayknow.shared.clock import Clock, as_utc
from mayknow.shared.errors import InvalidInput, NotFound
from mayknow.suggestions.domain import Candidate, Kind, Reason, Weights, gather, rank
from mayknow.suggestions.models import Block, Dismissal, FofCandidate

MAX_LIMIT = 100
_FOF = Prepared(
    select(
        FofCandidate.candidate_id,
        FofCandidate.mutual_count,
        FofCandidate.score,
        FofCandidate.via1,
        FofCandidate.via2,
        FofCandidate.via3,
    ).where(FofCandidate.viewer_id == bindparam("viewer"))
)
_DISMISSED = Prepared(
    select(Dismissal.candidate_id).where(Dismissal.viewer_id == bindparam("viewer"))
)
_BLOCKS = Prepared(
    select(Block.blocker_id, Block.blocked_id).where(
        or_(Block.blocker_id == bindparam("user_id"), Block.blocked_id == bindparam("user_id"))
    )
)


@dataclass(frozen=True)
class Shown:
    """A suggestion as the member sees it: who, and every reason, with names resolved."""

    user_id: int
    nickname: str
    reasons: list[dict[str, object]]


class SuggestionService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        consent: ConsentService,
        accounts: AccountService,
        graph: GraphService,
        contacts: ContactService,
        weights: Weights,
    ) -> None:
        self.uow, self.clock, self.weights = uow, clock, weights
        self.consent, self.accounts, self.graph, self.contacts = consent, accounts, graph, contacts

    # -- reading -------------------------------------------------------------------
    def suggestions(self, caller: Principal, limit: int) -> list[Shown]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(
                "invalid_limit", f"'limit' must be between 1 and {MAX_LIMIT}.", field="limit"
            )
        with self.uow.reads() as db:
            ranked = self._ranked(db, caller.user_id)[:limit]
            return self._show(db, ranked)

    def why(self, caller: Principal, candidate_id: int) -> list[dict[str, object]]:
        with self.uow.reads() as db:
            for candidate in self._ranked(db, caller.user_id):
                if candidate.user_id == candidate_id:
                    return self._show(db, [candidate])[0].reasons
        raise _not_a_suggestion()

    def ranked_in(self, session: Session, viewer: int) -> list[Candidate]:
        """Every current suggestion for ``viewer``, best first, inside the caller's session."""
        return self._ranked(session, viewer)

    def _ranked(self, session: Queryable, viewer: int) -> list[Candidate]:
        if not self.consent.settings_in(session, viewer)[Setting.SUGGESTIONS_ENABLED]:
            return []
        candidates = gather(self._sources(session, viewer))
        return rank(candidates, self._excluded(session, viewer, set(candidates)), self.weights)

    def _sources(self, session: Queryable, viewer: int) -> Iterator[tuple[int, Reason]]:
        allows = self.consent.allows_in
        if allows(session, viewer, Purpose.CONTACTS_UPLOAD):
            found = self.contacts.contacts_of(session, viewer)
            for uid in self.consent.granted_among(session, found, Purpose.DISCOVERABLE_BY_PHONE):
                yield uid, Reason(Kind.IN_YOUR_CONTACTS)
        if allows(session, viewer, Purpose.SUGGEST_FROM_OTHERS_CONTACTS):
            holders = self.contacts.uploaders_holding(session, viewer)
            agreed = self.consent.granted_among(session, holders, Purpose.SUGGEST_ME_TO_MY_CONTACTS)
            for uid in agreed:
                yield uid, Reason(Kind.HAS_YOU_IN_CONTACTS)
        for uid in self.graph.fan_ids(session, viewer):
            yield uid, Reason(Kind.FOLLOWS_YOU)
        for candidate, count, score, *vias in _FOF.all(session, viewer=viewer):
            via = tuple(v for v in vias if v is not None)
            yield candidate, Reason(Kind.MUTUAL_CONNECTIONS, count, via, score)

    def _excluded(self, session: Queryable, viewer: int, candidates: set[int]) -> set[int]:
        """Never suggested: oneself, people followed, blocked either way, dismissed, opted out."""
        excluded = {viewer} | self.graph.following_ids(session, viewer)
        excluded |= self.blocked_between(session, viewer)
        excluded |= set(_DISMISSED.scalars(session, viewer=viewer))
        excluded |= self.consent.turned_off_among(
            session, candidates - excluded, Setting.RECOMMEND_ME_TO_OTHERS
        )
        return excluded

    def _show(self, session: Queryable, ranked: list[Candidate]) -> list[Shown]:
        named = {c.user_id for c in ranked} | {v for c in ranked for r in c.reasons for v in r.via}
        names = self.accounts.nicknames(session, sorted(named))
        return [
            Shown(c.user_id, names[c.user_id], [_reason_json(r, names) for r in c.reasons])
            for c in ranked
            if c.user_id in names
        ]

    # -- choices -------------------------------------------------------------------
    def dismiss(self, caller: Principal, candidate_id: int) -> None:
        with self.uow.write() as session:
            if candidate_id not in {c.user_id for c in self._ranked(session, caller.user_id)}:
                raise _not_a_suggestion()
            session.execute(
                insert_for(session, Dismissal)
                .values(viewer_id=caller.user_id, candidate_id=candidate_id, at=self.clock.now())
                .on_conflict_do_nothing()
            )

    def undismiss(self, caller: Principal, candidate_id: int) -> None:
        with self.uow.write() as session:
            gone = delete(Dismissal).where(
                Dismissal.viewer_id == caller.user_id, Dismissal.candidate_id == candidate_id
            )
            if not affected(session, gone):
                raise NotFound("not_dismissed", "You have not dismissed that account.")

    def block(self, caller: Principal, other: int) -> None:
        if other == caller.user_id:
            raise InvalidInput("cannot_block_self", "You cannot block yourself.", field="user_id")
        with self.uow.write() as session:
            self.accounts.get(session, other)
            session.execute(
                insert_for(session, Block)
                .values(blocker_id=caller.user_id, blocked_id=other, at=self.clock.now())
                .on_conflict_do_nothing()
            )
            self.graph.sever(session, caller.user_id, other)

    def unblock(self, caller: Principal, other: int) -> None:
        with self.uow.write() as session:
            gone = delete(Block).where(
                Block.blocker_id == caller.user_id, Block.blocked_id == other
            )
            if not affected(session, gone):
                raise NotFound("not_blocked", "You have not blocked that account.")

    @staticmethod
    def blocked_between(db: Queryable, user_id: int) -> set[int]:
        return {b if a == user_id else a for a, b in _BLOCKS.all(db, user_id=user_id)}

    # -- the member's rights -------------------------------------------------------
    def export_in(self, session: Session, user_id: int) -> dict[str, object]:
        dismissed = session.execute(
            select(Dismissal.candidate_id, Dismissal.at).where(Dismissal.viewer_id == user_id)
        )
        blocked = session.execute(
            select(Block.blocked_id, Block.at).where(Block.blocker_id == user_id)
        )
        return {
            "dismissed_suggestions": [
                {"user_id": uid, "at": as_utc(at).isoformat()} for uid, at in dismissed
            ],
            "blocked": [{"user_id": uid, "at": as_utc(at).isoformat()} for uid, at in blocked],
            "suggestions_precomputed": len(
                session.scalars(
                    select(FofCandidate.candidate_id).where(FofCandidate.viewer_id == user_id)
                ).all()
            ),
        }

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]:
        fof = FofCandidate
        mine = or_(
            fof.viewer_id == user_id,
            fof.candidate_id == user_id,
            fof.via1 == user_id,
            fof.via2 == user_id,
            fof.via3 == user_id,
        )
        return {
            "precomputed_suggestions": affected(session, delete(fof).where(mine)),
            "dismissals": affected(
                session,
                delete(Dismissal).where(
                    or_(Dismissal.viewer_id == user_id, Dismissal.candidate_id == user_id)
                ),
            ),
            "blocks": affected(
                session,
                delete(Block).where(or_(Block.blocker_id == user_id, Block.blocked_id == user_id)),
            ),
        }


def _reason_json(reason: Reason, names: dict[int, str]) -> dict[str, object]:
    out: dict[str, object] = {"kind": reason.kind.value}
    if reason.kind is Kind.MUTUAL_CONNECTIONS:
        out["count"] = reason.count
        out["via"] = [{"user_id": v, "nickname": names[v]} for v in reason.via if v in names]
    return out


def _not_a_suggestion() -> NotFound:
    return NotFound("not_a_suggestion", "That account is not among your suggestions.")
