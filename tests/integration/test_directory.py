"""The matching directory answers what the store answers, through every change of who is
findable: grants and withdrawals after it was built, a new number, a deletion, a number
taken over by a new account, a key rotation, and a log that retention cut short."""

from __future__ import annotations

import dataclasses
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from mayknow import bootstrap
from mayknow.bootstrap import Container
from mayknow.contacts.models import DirectoryChange
from mayknow.entrypoints.cli import app
from mayknow.shared.clock import FakeClock
from tests.conftest import Member, People, grant


class Compare:
    """The same sync through the server (directory built at start-up) and through a
    second service on the same store with the directory off."""

    def __init__(self, container: Container, client: TestClient, uploader: Member) -> None:
        self.container, self.client, self.uploader = container, client, uploader
        settings = dataclasses.replace(container.settings, match_directory=False)
        self.store_only = bootstrap.build(
            settings, clock=container.clock, sms=container.sms, engine=container.engine
        )

    def directory_answers(self) -> bool:
        with self.container.uow.read() as session:
            return self.container.contacts.directory.candidates(session, []) is not None

    def wait_until_built(self) -> None:
        deadline = time.monotonic() + 30
        while not self.container.contacts.directory.ready:
            assert time.monotonic() < deadline, "the directory was never rebuilt"
            time.sleep(0.01)

    def matched(self, phones: list[str]) -> set[int]:
        response = self.client.post(
            "/v1/contacts/sync", json={"phones": phones}, headers=self.uploader.auth
        )
        assert response.status_code == 200, response.text
        through_directory = {m["user_id"] for m in response.json()["matched"]}
        caller = self.store_only.accounts.authenticate(self.uploader.token)
        assert caller is not None
        through_store = {
            int(str(m["user_id"]))
            for m in self.store_only.contacts.sync(caller, phones, None).matched
        }
        assert through_directory == through_store
        return through_directory


def _keys(compare: Compare, *args: str) -> None:
    settings = compare.container.settings
    result = CliRunner().invoke(
        app, ["keys", *args, "--db", settings.database_url, "--data-dir", str(settings.data_dir)]
    )
    assert result.exit_code == 0, result.output
    for container in (compare.container, compare.store_only):
        container.keys.reload()  # a server's ring re-reads the key file within seconds


def _new_number(people: People, client: TestClient, member: Member, number: str) -> None:
    people.clock.advance(seconds=61)
    sent = client.post("/v1/me/phone/code", json={"phone": number}, headers=member.auth)
    assert sent.status_code == 202
    code = people.outbox.last_code(number)
    moved = client.put("/v1/me/phone", json={"phone": number, "code": code}, headers=member.auth)
    assert moved.status_code == 200, moved.text


def test_every_change_of_who_is_findable_reaches_the_directory(
    people: People, client: TestClient, container: Container
) -> None:
    uploader = people.sign_up("上传者")
    grant(client, uploader, "contacts_upload")
    a, b, c, d = (people.sign_up(name) for name in ("甲", "乙", "丙", "丁"))
    for member in (a, b, c):
        grant(client, member, "discoverable_by_phone")
    compare = Compare(container, client, uploader)
    book = [m.phone for m in (a, b, c, d)] + ["+8613900009999", "+8613900008888"]
    assert compare.directory_answers()
    assert compare.matched(book) == {a.user_id, b.user_id, c.user_id}  # from the log

    container.contacts.directory.build(container.uow)  # and from a scan of the store
    assert compare.matched(book) == {a.user_id, b.user_id, c.user_id}

    grant(client, d, "discoverable_by_phone")
    grant(client, a, "discoverable_by_phone", granted=False)
    assert compare.matched(book) == {b.user_id, c.user_id, d.user_id}

    _new_number(people, client, b, "+8613900009999")
    assert compare.matched(book) == {b.user_id, c.user_id, d.user_id}  # under the new number
    assert compare.matched([m.phone for m in (a, b, c, d)]) == {c.user_id, d.user_id}

    assert client.delete("/v1/me", headers=c.auth).status_code == 202
    with container.uow.read() as session:
        left = select(func.count()).where(DirectoryChange.user_id == c.user_id)
        assert session.scalar(left) == 0  # the log keeps nothing of the deleted account
    assert compare.matched(book) == {b.user_id, d.user_id}
    heir = people.sign_up("新丙", phone=c.phone)  # the number goes to someone new
    assert compare.matched(book) == {b.user_id, d.user_id}
    grant(client, heir, "discoverable_by_phone")
    assert compare.matched(book) == {b.user_id, d.user_id, heir.user_id}
    assert compare.directory_answers()


def test_key_rotation_rebuilds_the_directory_and_matching_goes_on(
    people: People, client: TestClient, container: Container
) -> None:
    uploader = people.sign_up("上传者")
    grant(client, uploader, "contacts_upload")
    findable = [people.sign_up(f"成员{i}") for i in range(3)]
    for member in findable:
        grant(client, member, "discoverable_by_phone")
    compare = Compare(container, client, uploader)
    book = [m.phone for m in findable]
    everyone = {m.user_id for m in findable}
    _keys(compare, "rotate", "--wait", "0")
    assert compare.matched(book) == everyone  # through the store while it rebuilds
    compare.wait_until_built()
    assert compare.directory_answers()
    assert compare.matched(book) == everyone
    _keys(compare, "retire")  # the old pseudonyms can no longer be computed
    assert compare.matched(book) == everyone
    compare.wait_until_built()
    assert compare.matched(book) == everyone
    assert compare.directory_answers()


def test_a_log_cut_short_by_retention_makes_the_directory_rebuild(
    people: People, client: TestClient, container: Container, clock: FakeClock
) -> None:
    uploader = people.sign_up("上传者")
    grant(client, uploader, "contacts_upload")
    early, late = people.sign_up("早"), people.sign_up("晚")
    grant(client, early, "discoverable_by_phone")
    compare = Compare(container, client, uploader)
    assert compare.matched([early.phone, late.phone]) == {early.user_id}
    grant(client, late, "discoverable_by_phone")
    clock.advance(days=2)
    container.retention.purge()  # the log entry of the grant is gone before it was read
    with container.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(DirectoryChange)) == 0
    assert compare.matched([early.phone, late.phone]) == {early.user_id, late.user_id}
    compare.wait_until_built()
    assert compare.matched([early.phone, late.phone]) == {early.user_id, late.user_id}
    assert compare.directory_answers()
