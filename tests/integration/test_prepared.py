"""Statements run straight on the driver read exactly what SQLAlchemy would read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, select, update

from mayknow.accounts.models import AuthSession, User
from mayknow.accounts.sessions import TOUCH_EVERY
from mayknow.bootstrap import Container
from mayknow.contacts.models import ContactEdge
from mayknow.db.prepared import Prepared, PreparedInsert
from mayknow.shared.clock import FakeClock, as_utc
from tests.conftest import People

_SESSIONS = (
    select(AuthSession.user_id, AuthSession.expires_at, AuthSession.last_seen_at)
    .where(AuthSession.user_id.in_(bindparam("ids", expanding=True)))
    .where(AuthSession.expires_at > bindparam("after"))
    .order_by(AuthSession.user_id)
    .limit(2)
)


def test_prepared_rows_equal_sqlalchemys(people: People, container: Container) -> None:
    ids = [people.sign_up(nickname).user_id for nickname in ("甲", "乙", "丙")]
    after = container.clock.now()
    with container.uow.read() as session:
        expected = [tuple(row) for row in session.execute(_SESSIONS, {"ids": ids, "after": after})]
    with container.uow.reads() as db:
        got = Prepared(_SESSIONS).all(db, ids=ids, after=after)
    assert len(expected) == 2  # the LIMIT the statement carries itself applies
    assert got == expected  # datetimes converted as SQLAlchemy converts them
    assert [as_utc(row[1]) > after for row in got] == [True, True]


def test_in_and_not_in_lists_of_every_length_read_the_right_rows(
    people: People, container: Container
) -> None:
    ids = sorted(people.sign_up(f"列{i}").user_id for i in range(5))
    among = Prepared(
        select(User.id)
        .where(User.id.in_(bindparam("among", expanding=True)))
        .where(User.id.not_in(bindparam("without", expanding=True)))
        .order_by(User.id)
    )
    with container.uow.reads() as db:
        for length in range(1, 6):
            assert among.scalars(db, among=ids[:length], without=[ids[0]]) == ids[1:length]
            assert among.scalars(db, among=iter(ids), without=ids[:length]) == ids[length:]
        sql = {among._bound(db, {"among": ids[:n], "without": ids[:1]})[1] for n in (1, 5)}
    # PostgreSQL takes each list as one array, so every length shares one prepared statement
    assert len(sql) == (1 if container.engine.dialect.name == "postgresql" else 2)


def test_an_empty_in_list_is_refused(container: Container) -> None:
    with container.uow.reads() as db, pytest.raises(ValueError, match="empty"):
        Prepared(_SESSIONS).all(db, ids=[], after=container.clock.now())


def test_a_read_in_a_write_sees_that_write(people: People, container: Container) -> None:
    member = people.sign_up("丁")
    nickname = Prepared(select(User.nickname).where(User.id == bindparam("user_id")))
    with container.uow.write() as session:
        session.execute(update(User).where(User.id == member.user_id).values(nickname="戊"))
        assert nickname.scalar(session, user_id=member.user_id) == "戊"
    with container.uow.lone_read() as db:
        assert nickname.scalar(db, user_id=member.user_id) == "戊"


def _last_seen(container: Container, user_id: int) -> object:
    with container.uow.read() as session:
        seen = session.scalar(
            select(AuthSession.last_seen_at).where(AuthSession.user_id == user_id)
        )
    assert seen is not None
    return as_utc(seen)


def test_a_visit_is_recorded_once_it_is_due_and_not_before(
    people: People, container: Container, clock: FakeClock
) -> None:
    """GET /v1/me answers on the event loop when nothing is to be written; when the
    session's last visit is due to be recorded, it writes it."""
    member = people.sign_up("己")
    first = _last_seen(container, member.user_id)
    clock.advance(seconds=(TOUCH_EVERY - timedelta(seconds=1)).total_seconds())
    assert people.client.get("/v1/me", headers=member.auth).status_code == 200
    assert _last_seen(container, member.user_id) == first
    clock.advance(seconds=2)
    assert people.client.get("/v1/me", headers=member.auth).status_code == 200
    assert _last_seen(container, member.user_id) == clock.now()


def test_prepared_insert_skips_conflicts_and_keeps_types(
    people: People, container: Container
) -> None:
    a, b, c = (people.sign_up(n).user_id for n in ("庚", "辛", "壬"))
    at = container.clock.now()
    insert = PreparedInsert(ContactEdge.__table__)  # type: ignore[arg-type]
    rows = [
        {"uploader_id": a, "contact_id": contact, "source": "sync", "created_at": at}
        for contact in (b, c)
    ]
    with container.uow.write() as session:
        insert.many(session, rows)
        insert.many(session, rows[:1])  # already there: skipped, not an error
    query = select(ContactEdge.contact_id, ContactEdge.created_at).where(
        ContactEdge.uploader_id == a
    )
    with container.uow.read() as session:
        stored = sorted((contact, as_utc(when)) for contact, when in session.execute(query))
    assert stored == sorted([(b, at), (c, at)])
