"""The follow graph: follow, unfollow, fans, mutual follows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, bindparam, delete, or_, select
from sqlalchemy.orm import Session, aliased

from mayknow.accounts.service import AccountService
from mayknow.db.ops import affected, insert_for
from mayknow.db.prepared import Prepared
from mayknow.db.uow import Queryable, UnitOfWork
from mayknow.graph.models import Follow
from mayknow.shared.clock import Clock, as_utc
from mayknow.shared.errors import InvalidInput

_FOLLOWING = Prepared(select(Follow.followee_id).where(Follow.follower_id == bindparam("user_id")))
_FANS = Prepared(select(Follow.follower_id).where(Follow.followee_id == bindparam("user_id")))

Person = dict[str, object]


class GraphService:
    def __init__(self, uow: UnitOfWork, clock: Clock, accounts: AccountService) -> None:
        self.uow, self.clock, self.accounts = uow, clock, accounts

    def follow(self, follower: int, followee: int) -> dict[str, object]:
        if follower == followee:
            raise InvalidInput("cannot_follow_self", "You cannot follow yourself.", field="user_id")
        with self.uow.write() as session:
            self.accounts.get(session, followee)
            session.execute(
                insert_for(session, Follow)
                .values(follower_id=follower, followee_id=followee, created_at=self.clock.now())
                .on_conflict_do_nothing()
            )
            return {
                "user_id": followee,
                "following": True,
                "mutual": self._follows(session, followee, follower),
            }

    def unfollow(self, follower: int, followee: int) -> None:
        with self.uow.write() as session:
            self.accounts.get(session, followee)
            session.execute(
                delete(Follow).where(Follow.follower_id == follower, Follow.followee_id == followee)
            )

    @staticmethod
    def _follows(session: Session, a: int, b: int) -> bool:
        return session.get(Follow, (a, b)) is not None

    def following(self, user_id: int) -> list[Person]:
        with self.uow.read() as session:
            ids = list(
                session.scalars(
                    select(Follow.followee_id)
                    .where(Follow.follower_id == user_id)
                    .order_by(Follow.created_at.desc())
                )
            )
            return self._people(session, ids)

    def fans(self, user_id: int) -> list[Person]:
        with self.uow.read() as session:
            ids = list(
                session.scalars(
                    select(Follow.follower_id)
                    .where(Follow.followee_id == user_id)
                    .order_by(Follow.created_at.desc())
                )
            )
            return self._people(session, ids)

    def mutuals(self, user_id: int) -> list[Person]:
        with self.uow.read() as session:
            return self._people(session, self.mutual_ids(session, user_id))

    @staticmethod
    def mutual_ids(session: Session, user_id: int) -> list[int]:
        back = aliased(Follow)
        return list(
            session.scalars(
                select(Follow.followee_id)
                .join(
                    back,
                    (back.follower_id == Follow.followee_id)
                    & (back.followee_id == Follow.follower_id),
                )
                .where(Follow.follower_id == user_id)
                .order_by(Follow.followee_id)
            )
        )

    @staticmethod
    def following_ids(db: Queryable, user_id: int) -> set[int]:
        return set(_FOLLOWING.scalars(db, user_id=user_id))

    @staticmethod
    def fan_ids(db: Queryable, user_id: int) -> set[int]:
        return set(_FANS.scalars(db, user_id=user_id))

    @staticmethod
    def sever(session: Session, a: int, b: int) -> int:
        """Remove follows between two members in both directions (a block does this)."""
        return affected(
            session,
            delete(Follow).where(
                or_(
                    (Follow.follower_id == a) & (Follow.followee_id == b),
                    (Follow.follower_id == b) & (Follow.followee_id == a),
                )
            ),
        )

    def _people(self, session: Session, ids: list[int]) -> list[Person]:
        names = self.accounts.nicknames(session, ids)
        return [{"user_id": i, "nickname": names[i]} for i in ids if i in names]

    # -- the member's rights -------------------------------------------------------
    def export_in(self, session: Session, user_id: int) -> dict[str, object]:
        following = session.execute(
            select(Follow.followee_id, Follow.created_at).where(Follow.follower_id == user_id)
        )
        fans = session.execute(
            select(Follow.follower_id, Follow.created_at).where(Follow.followee_id == user_id)
        )
        return {
            "following": [_since(row) for row in following],
            "fans": [_since(row) for row in fans],
        }

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]:
        mine = or_(Follow.follower_id == user_id, Follow.followee_id == user_id)
        return {"follows": affected(session, delete(Follow).where(mine))}


def _since(row: Row[int, datetime]) -> dict[str, object]:
    return {"user_id": row[0], "since": as_utc(row[1]).isoformat()}
