"""How units of work end: a read never writes, and on PostgreSQL reads keep the
connection's prepared statements (psycopg drops them at every ROLLBACK)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, bindparam, select, text, update
from sqlalchemy.exc import DBAPIError

from mayknow.accounts.models import User
from mayknow.db.engine import make_engine
from mayknow.db.prepared import Prepared
from mayknow.db.uow import UnitOfWork
from tests.conftest import People

_NICKNAME = Prepared(select(User.nickname).where(User.id == bindparam("user_id")))


def test_a_write_in_a_read_never_lands(people: People, engine: Engine) -> None:
    member = people.sign_up("庚")
    uow = UnitOfWork(engine)
    renamed = update(User).where(User.id == member.user_id).values(nickname="辛")
    if engine.dialect.name == "postgresql":  # a READ ONLY transaction refuses it
        with pytest.raises(DBAPIError, match="read-only transaction"), uow.read() as session:
            session.execute(renamed)
    else:  # rolled back at the end
        with uow.read() as session:
            session.execute(renamed)
    with uow.lone_read() as db:
        assert _NICKNAME.scalar(db, user_id=member.user_id) == "庚"


@pytest.fixture
def one_connection(database_url: str, engine: Engine) -> Iterator[UnitOfWork]:
    """A unit of work whose pool holds a single connection, so every read shares it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("prepared statements on the server: PostgreSQL only")
    single = make_engine(database_url, pool_size=1)
    yield UnitOfWork(single)
    single.dispose()


def _prepared_on_server(uow: UnitOfWork) -> int:
    with uow.reads() as db:
        return int(db.scalar(text("SELECT count(*) FROM pg_prepared_statements")) or 0)


def test_reads_keep_the_prepared_statements(people: People, one_connection: UnitOfWork) -> None:
    member = people.sign_up("壬")
    for _ in range(6):  # psycopg prepares a statement at its fifth execution
        with one_connection.reads() as db:
            assert _NICKNAME.scalar(db, user_id=member.user_id) == "壬"
        with one_connection.lone_read() as db:
            assert _NICKNAME.scalar(db, user_id=member.user_id) == "壬"
    with one_connection.read() as session:
        assert session.get(User, member.user_id) is not None
    assert _prepared_on_server(one_connection) >= 1
