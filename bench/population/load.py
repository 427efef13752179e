"""Load a generated population into a mayknow store, in bulk (COPY on PostgreSQL,
executemany in large chunks on SQLite), bypassing the API for speed.

What goes in: users (keyed pseudonym and ciphertext of the fictional number, from the
store's own key ring), the consent ledger (account acceptance and each granted purpose),
follows, and the address-book matches the service would keep: an edge uploader -> member
only where the uploader granted contacts_upload and the member discoverable_by_phone.
Numbers that match no member (outsiders, 10086 and the like) are dropped, as sync does.
Not loaded: audit events, sessions, discovery tags (bench data, not a member's history).
"""

from __future__ import annotations

import io
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Engine

from bench.population import Population
from bench.population.people import PURPOSES
from mayknow.db.engine import make_engine
from mayknow.db.migrate import upgrade
from mayknow.identity.keyring import load_or_create
from mayknow.policy.texts import current_version

CHUNK = 100_000
SINCE = datetime(2019, 2, 9, 10, 0, tzinfo=UTC)


def load(population: Population, url: str, data_dir: Path) -> dict[str, int]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        pg = engine.dialect.name == "postgresql"
        stamp = SINCE.isoformat() if pg else SINCE.strftime("%Y-%m-%d %H:%M:%S.%f")
        tables = {
            "users": users(population, data_dir, stamp, pg),
            "consent_events": consents(population, stamp),
            "follows": _stamped(population.follows(), stamp),
            "contact_edges": contact_edges(population, stamp),
        }
        for name, table in tables.items():
            bulk_insert(engine, name, table)
        return {name: table.num_rows for name, table in tables.items()}
    finally:
        engine.dispose()


def users(population: Population, data_dir: Path, stamp: str, pg: bool) -> pa.Table:
    keys = load_or_create(data_dir)
    phones = population.users.column("phone").to_pylist()
    pseudonyms = [keys.phone_pseudonym(p) for p in phones]
    ciphertexts = [keys.encrypt(p.encode()) for p in phones]
    refs = [secrets.token_hex(16) for _ in phones]
    binary: Any = (lambda b: "\\x" + b.hex()) if pg else (lambda b: b)
    return _stamped(
        pa.table(
            {
                "id": population.users.column("user_id"),
                "nickname": population.users.column("nickname"),
                "phone_pseudonym": [binary(b) for b in pseudonyms],
                "phone_key_version": pa.array(np.full(len(phones), keys.current)),
                "phone_ciphertext": [binary(b) for b in ciphertexts],
                "audit_ref": refs,
            }
        ),
        stamp,
    )


def consents(population: Population, stamp: str) -> pa.Table:
    ids = population.users.column("user_id")
    user_parts, purpose_parts = [ids], [pa.array(["account"] * len(ids))]
    for purpose in PURPOSES:
        granted = ids.filter(population.users.column(purpose))
        user_parts.append(granted)
        purpose_parts.append(pa.array([purpose] * len(granted)))
    count = sum(len(p) for p in user_parts)
    table = pa.table(
        {
            "user_id": pa.chunked_array(user_parts),
            "purpose": pa.chunked_array(purpose_parts),
            "granted": pa.array([True] * count),
            "policy_version": pa.array([current_version()] * count),
            "channel": pa.array(["api"] * count),
        }
    )
    return table.append_column("at", pa.array([stamp] * count))


def contact_edges(population: Population, stamp: str) -> pa.Table:
    books = population.books
    if not books.num_columns:
        return pa.table({"uploader_id": pa.array([], pa.int64())})
    digits = pc.replace_substring_regex(books.column("number"), r"[^0-9]", "")
    national = pc.if_else(
        pc.and_(pc.starts_with(digits, "86"), pc.equal(pc.utf8_length(digits), 13)),
        pc.utf8_slice_codeunits(digits, 2),
        digits,
    )
    e164 = pc.binary_join_element_wise("+86", national, "")
    people = population.users
    uploaders = people.filter(people.column("contacts_upload")).select(["user_id"])
    findable = people.filter(people.column("discoverable_by_phone")).select(["user_id", "phone"])
    book = pa.table({"uploader_id": books.column("owner_id"), "phone": e164})
    book = book.join(uploaders, "uploader_id", "user_id", join_type="inner")
    matched = book.join(findable.rename_columns(["contact_id", "phone"]), "phone")
    edges = matched.select(["uploader_id", "contact_id"]).group_by(
        ["uploader_id", "contact_id"]
    ).aggregate([])  # fmt: skip
    edges = edges.filter(pc.not_equal(edges.column("uploader_id"), edges.column("contact_id")))
    edges = edges.append_column("source", pa.array(["sync"] * edges.num_rows, pa.string()))
    return edges.append_column("created_at", pa.array([stamp] * edges.num_rows))


def _stamped(table: pa.Table, stamp: str) -> pa.Table:
    return table.append_column("created_at", pa.array([stamp] * table.num_rows))


def bulk_insert(engine: Engine, name: str, table: pa.Table) -> None:
    if table.num_rows == 0:
        return
    columns = ", ".join(table.column_names)
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        if engine.dialect.name == "postgresql":
            options = pacsv.WriteOptions(include_header=False)
            with raw.cursor() as cursor:
                copy_sql = f"COPY {name} ({columns}) FROM STDIN (FORMAT csv)"
                with cursor.copy(copy_sql) as copy:
                    for batch in table.to_batches(CHUNK):
                        buffer = io.BytesIO()
                        pacsv.write_csv(batch, buffer, options)
                        copy.write(buffer.getvalue())
            raw.commit()
            return
        marks = ", ".join("?" for _ in table.column_names)
        cursor = raw.cursor()
        cursor.execute("PRAGMA cache_size = -1000000")
        cursor.execute("BEGIN IMMEDIATE")
        insert = f"INSERT INTO {name} ({columns}) VALUES ({marks})"  # noqa: S608 - constants
        for batch in table.to_batches(CHUNK):
            values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            cursor.executemany(insert, zip(*values, strict=True))
        cursor.execute("COMMIT")
        cursor.close()
