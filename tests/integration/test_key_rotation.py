"""Key rotation: members keep logging in and being found while pseudonyms are re-keyed."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from mayknow.accounts.models import User
from mayknow.bootstrap import Container
from mayknow.entrypoints.cli import app
from mayknow.identity.keyring import KEY_FILE
from tests.conftest import People, grant


def _cli(container: Container, *args: str) -> str:
    settings = container.settings
    result = CliRunner().invoke(
        app, [*args, "--db", settings.database_url, "--data-dir", str(settings.data_dir)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_rotation_rekeys_everyone_and_nothing_stops_working(
    people: People, client: TestClient, container: Container
) -> None:
    ling, hu = people.sign_up("凌某"), people.sign_up("胡子")
    grant(client, hu, "discoverable_by_phone")
    grant(client, ling, "contacts_upload")
    pending_code = people.code_for(ling.phone)  # sent under version 1
    with container.uow.read() as session:
        before = {u.id: u.phone_pseudonym for u in session.scalars(select(User))}
    assert "re-keyed 2 members to version 2" in _cli(container, "keys", "rotate", "--wait", "0")
    container.keys.reload()  # the running server's ring re-reads the file within seconds
    with container.uow.read() as session:
        after = {
            u.id: (u.phone_pseudonym, u.phone_key_version) for u in session.scalars(select(User))
        }
    assert all(after[uid][1] == 2 and after[uid][0] != before[uid] for uid in before)
    login = client.post("/v1/auth/login", json={"phone": ling.phone, "code": pending_code})
    assert login.status_code == 200
    sync = client.post("/v1/contacts/sync", json={"phones": [hu.phone]}, headers=ling.auth)
    assert [m["user_id"] for m in sync.json()["matched"]] == [hu.user_id]
    assert (
        client.get("/v1/me", headers=ling.auth)
        .json()["phone_masked"]
        .endswith("****" + ling.phone[-4:])
    )


def test_retire_drops_only_versions_nobody_uses(people: People, container: Container) -> None:
    people.sign_up()
    _cli(container, "keys", "rotate", "--wait", "0")
    assert "retired versions: 1" in _cli(container, "keys", "retire")
    versions = json.loads((container.settings.data_dir / KEY_FILE).read_text())["versions"]
    assert set(versions) == {"2"}
