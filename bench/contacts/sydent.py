"""Matrix's identity server sydent, side by side: hashed lookups of 1,000 numbers.

    python bench/contacts/sydent.py --accounts 1000000 [--iterations 15]

sydent (``matrix-sydent`` from PyPI) lives in its own venv (default /tmp/sydent-venv,
created on first use with pip: its dependencies are pinned differently from mayknow's). Its
release does not declare ``prometheus_client``, which ``sydent.sydent`` imports, so that is
installed beside it.

The store: sydent is started once on an empty SQLite file, which creates its schema (its own
migrations, v0 -> v5) and its lookup pepper; it is stopped, and N bindings are inserted into
``global_threepid_associations``, the table ``/_matrix/identity/v2/lookup`` reads
(``GlobalAssociationStore.retrieveMxidsForHashes``). They are the same N numbers as mayknow's
members (common.py), medium ``msisdn``, address the number without "+" (``86139...``), mxid
``@mK:bench.localhost``, valid from now-1 s for ten years, ``lookup_hash`` computed as sydent
does (``sha256_and_url_safe_base64("<address> <medium> <pepper>")``). The file is cached under
``--cache-dir``/sydent-N/.

The access token: v2 endpoints need one (``authV2``), and ``/account/register`` needs an
OpenID token that sydent checks against a homeserver over federation. Instead, as
``AccountStore.storeAccount`` and ``registerservlet`` would, one row goes into ``accounts`` and
one into ``tokens`` (a fresh random token per run). No terms are configured, so none must
be accepted.

Each request: ``POST /_matrix/identity/v2/lookup`` with 1,000 sha256 hashes (30% members, the
same mix as mayknow's books), algorithm ``sha256``, the pepper read from
``/_matrix/identity/v2/hash_details``; sent by http_client.py from its own process, one at a
time; each answer is checked to map exactly the members. sydent listens on 127.0.0.1 only
(client API), with no replication listener (no certificate configured) and no internal API.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import machine as host
from bench.contacts import common

DEFAULT_VENV = Path("/tmp/sydent-venv")  # noqa: S108 - a venv of pinned packages, rebuilt if gone
PACKAGES = ("matrix-sydent==2.6.1", "prometheus-client==0.26.0")
SERVER_NAME = "bench.localhost"
MEDIUM = "msisdn"
MANIFEST = "manifest.json"
FORMAT = 1


def ensure_venv(venv: Path, say: Callable[[str], None] = print) -> Path:
    """The venv's python, with sydent installed (created with pip if missing)."""
    return common.venv_with(venv, PACKAGES, "sydent.sydent, prometheus_client", say)


def versions(python: Path) -> str:
    code = (
        "from importlib.metadata import version as v; "
        "print(', '.join(f'{p} {v(p)}' for p in ('matrix-sydent', 'twisted')))"
    )
    return host.first_line([str(python), "-c", code])


def lookup_hash(address: str, pepper: str) -> str:
    digest = hashlib.sha256(f"{address} {MEDIUM} {pepper}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def msisdn(k: int) -> str:
    return common.member_e164(k)[1:]


# -- the server ----------------------------------------------------------------------------------
class Sydent:
    def __init__(self, python: Path, home: Path, port: int) -> None:
        self.home, self.port = home, port
        self.base = f"http://{common.LOOPBACK}:{port}"
        config = home / "sydent.conf"
        # sydent rewrites its config file (it adds a signing key): keep the one it wrote
        kept = ""
        if config.exists():
            kept = "".join(
                line
                for line in config.read_text().splitlines(keepends=True)
                if line.startswith("ed25519.signingkey")
            )
        config.write_text(
            "[general]\n"
            f"server.name = {SERVER_NAME}\n"
            "log.level = WARNING\n"
            f"log.path = {home / 'sydent.log'}\n"
            f"pidfile.path = {home / 'sydent.pid'}\n"
            f"templates.path = {home / 'res'}\n"
            "[db]\n"
            f"db.file = {home / 'sydent.db'}\n"
            "[http]\n"
            f"clientapi.http.bind_address = {common.LOOPBACK}\n"
            f"clientapi.http.port = {port}\n"
            f"replication.https.bind_address = {common.LOOPBACK}\n"
            "internalapi.http.port =\n"
            "[crypto]\n" + kept
        )
        (home / "res").mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYDENT_")}
        env["SYDENT_CONF"] = str(config)
        self._out = (home / "stdout.log").open("wb")
        self.proc = subprocess.Popen(
            [str(python), "-m", "sydent.sydent"],
            cwd=home,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sydent exited ({self.proc.returncode}): {self.tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self._get("/_matrix/identity/v2", None, timeout=2)[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"sydent was not ready within {timeout:.0f} s: {self.tail()}")

    def _get(self, path: str, token: str | None, timeout: float = 30) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(common.LOOPBACK, self.port, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def get(self, path: str, token: str) -> dict[str, Any]:
        status, body = self._get(path, token)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
        answer: dict[str, Any] = json.loads(body)
        return answer

    def tail(self) -> str:
        text = ""
        for name in ("stdout.log", "sydent.log"):
            with contextlib.suppress(OSError):
                text += (self.home / name).read_text(errors="replace")[-2000:]
        return text

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=20)
            if self.proc.poll() is None:  # still alive, so its process group is still ours
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        finally:
            self._out.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((common.LOOPBACK, 0))
        return int(s.getsockname()[1])


# -- the store -----------------------------------------------------------------------------------
def prepare(
    python: Path, cache_dir: Path, accounts: int, say: Callable[[str], None] = print
) -> Path:
    """The cached sydent home with ``accounts`` bindings (built now if missing)."""
    home = cache_dir / f"sydent-{accounts}"
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads((home / MANIFEST).read_text())
        if manifest.get("format") == FORMAT and manifest.get("numbering") == [
            common.MUL,
            common.OFF,
        ]:
            say(f"using the cached sydent store {home} ({accounts:,} bindings)")
            return home
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True, mode=0o700)
    started = time.monotonic()
    say("starting sydent once on an empty store (schema and pepper) ...")
    server = Sydent(python, home, _free_port())
    try:
        server.wait_ready()
    finally:
        server.stop()
    say(f"inserting {accounts:,} bindings into global_threepid_associations ...")
    _insert_bindings(home / "sydent.db", accounts)
    (home / MANIFEST).write_text(
        json.dumps(
            {
                "format": FORMAT,
                "numbering": [common.MUL, common.OFF],
                "accounts": accounts,
                "seconds": time.monotonic() - started,
            }
        )
    )
    say(f"sydent store ready in {time.monotonic() - started:.0f} s")
    return home


def _pepper(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT lookup_pepper FROM hashing_metadata").fetchone()
    finally:
        conn.close()
    if not row or not row[0]:
        raise RuntimeError("sydent stored no lookup pepper")
    return str(row[0])


def _insert_bindings(db: Path, accounts: int) -> None:
    pepper = _pepper(db)
    now = int(time.time() * 1000)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-524288")
        conn.execute("BEGIN")
        sql = (
            "INSERT INTO global_threepid_associations (medium, address, mxid, ts, notBefore, "
            "notAfter, originServer, originId, sgAssoc, lookup_hash) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)"
        )
        for start in range(0, accounts, 50_000):
            rows = []
            for k in range(start, min(accounts, start + 50_000)):
                address = msisdn(k)
                rows.append(
                    (
                        MEDIUM,
                        address,
                        f"@m{k}:{SERVER_NAME}",
                        now,
                        now - 1000,
                        now + 10 * 365 * 86_400_000,
                        SERVER_NAME,
                        k,
                        "{}",
                        lookup_hash(address, pepper),
                    )
                )
            conn.executemany(sql, rows)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _grant_token(db: Path) -> str:
    """An account and an access token, written as sydent's own AccountStore would."""
    token = secrets.token_urlsafe(24)
    user = f"@bench:{SERVER_NAME}"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute(
            "INSERT OR IGNORE INTO accounts (user_id, created_ts, consent_version) "
            "VALUES (?, ?, NULL)",
            (user, int(time.time() * 1000)),
        )
        conn.execute("DELETE FROM tokens WHERE user_id = ?", (user,))
        conn.execute("INSERT INTO tokens (token, user_id) VALUES (?, ?)", (token, user))
    finally:
        conn.close()
    return token


def query_plan(db: Path) -> list[str]:
    """SQLite's plan for sydent's lookup query, on a copy of its temporary table."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        conn.execute("CREATE TEMPORARY TABLE tmp_retrieve_mxids_for_hashes (lookup_hash VARCHAR)")
        conn.execute(
            "CREATE INDEX tmp_retrieve_mxids_for_hashes_lookup_hash ON "
            "tmp_retrieve_mxids_for_hashes(lookup_hash)"
        )
        rows = conn.execute(
            "EXPLAIN QUERY PLAN SELECT gta.lookup_hash, gta.mxid FROM "
            "global_threepid_associations gta JOIN tmp_retrieve_mxids_for_hashes "
            "ON gta.lookup_hash = tmp_retrieve_mxids_for_hashes.lookup_hash "
            "WHERE gta.notBefore < ? AND gta.notAfter > ? ORDER BY gta.lookup_hash, gta.mxid, "
            "gta.ts",
            (1, 1),
        ).fetchall()
    finally:
        conn.close()
    return [str(r[-1]) for r in rows]


# -- the run -------------------------------------------------------------------------------------
def measure(
    accounts: int,
    iterations: int,
    *,
    cache_dir: Path = common.DEFAULT_CACHE,
    venv: Path = DEFAULT_VENV,
    seed_value: int = 3,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    python = ensure_venv(venv, say)
    home = prepare(python, cache_dir, accounts, say)
    db = home / "sydent.db"
    token = _grant_token(db)
    pepper = _pepper(db)
    workdir = Path(tempfile.mkdtemp(prefix="mayknow-contacts-sydent-"))
    server = Sydent(python, home, _free_port())
    try:
        server.wait_ready()
        details = server.get("/_matrix/identity/v2/hash_details", token)
        if details.get("lookup_pepper") != pepper or "sha256" not in details.get("algorithms", []):
            raise RuntimeError(f"unexpected hash_details: {details}")
        rng = random.Random(seed_value)
        jobs = []
        for _ in range(iterations + 1):  # the first one warms up and is dropped
            book = common.make_book(rng, accounts)
            hashes = [lookup_hash(e164[1:], pepper) for e164 in book.e164]
            jobs.append(
                {
                    "path": "/_matrix/identity/v2/lookup",
                    "token": token,
                    "body": json.dumps(
                        {"addresses": hashes, "algorithm": "sha256", "pepper": pepper}
                    ),
                    "key": "mappings",
                    "expect": book.members,
                }
            )
        requests = workdir / "lookups.jsonl"
        results = []
        for name, batch in (("warmup", jobs[:1]), ("lookup", jobs[1:])):
            requests.write_text("".join(json.dumps(j) + "\n" for j in batch))
            cpu0 = host.cpu_seconds([server.proc.pid])
            done = subprocess.run(
                [
                    sys.executable,
                    str(common.HERE / "http_client.py"),
                    "--port",
                    str(server.port),
                    "--requests",
                    str(requests),
                    "--deadline",
                    "3000",
                ],
                capture_output=True,
                text=True,
                timeout=3300,
                check=False,
            )
            cpu1 = host.cpu_seconds([server.proc.pid])
            if done.returncode != 0:
                raise RuntimeError(f"http_client.py failed: {done.stderr[-2000:]}")
            result = json.loads(done.stdout)
            if result["errors"]:
                raise RuntimeError(f"sydent {name}: {result['errors']}\n{server.tail()}")
            results.append((result, cpu1 - cpu0))
        result, cpu = results[1]
        n = len(result["latencies_ms"])
        return {
            "accounts": accounts,
            "summary": common.summary(result["latencies_ms"]),
            "server_cpu_ms_per_request": 1000 * cpu / max(1, n),
            "rss": common.rss_bytes(server.proc.pid),
            "versions": versions(python),
            "plan": query_plan(db),
        }
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def report(rows: list[dict[str, Any]], mayknow: dict[int, dict[str, Any]]) -> str:
    """sydent next to mayknow's whole request (SQLite, concurrency 1) at the same sizes."""
    head = [
        "bindings",
        "sydent n",
        "sydent p50 ms",
        "sydent p99 ms",
        "sydent CPU ms/req",
        "mayknow p50 ms",
        "mayknow p99 ms",
        "mayknow CPU ms/req",
        "ratio (sydent p50 / mayknow p50)",
        "target at 1M",
    ]
    out = []
    for r in rows:
        s = r["summary"]
        m = mayknow.get(r["accounts"])
        if m is None:
            out.append(
                [
                    common.human(r["accounts"]),
                    s["n"],
                    common.fmt_ms(s["p50"]),
                    common.fmt_ms(s["p99"]),
                    f"{r['server_cpu_ms_per_request']:.0f}",
                    "n/a",
                    "n/a",
                    "n/a",
                    "n/a",
                    "",
                ]
            )
            continue
        ratio = s["p50"] / m["summary"]["p50"]
        target = ""
        if r["accounts"] == 1_000_000:
            target = f"≥ 100×: **{'MET' if ratio >= 100 else 'MISSED'}**"
        out.append(
            [
                common.human(r["accounts"]),
                s["n"],
                common.fmt_ms(s["p50"]),
                common.fmt_ms(s["p99"]),
                f"{r['server_cpu_ms_per_request']:.0f}",
                common.fmt_ms(m["summary"]["p50"]),
                common.fmt_ms(m["summary"]["p99"]),
                f"{m['server_cpu_ms_per_request']:.1f}",
                common.ratio(ratio),
                target,
            ]
        )
    return (
        "POST /_matrix/identity/v2/lookup (sydent) vs POST /v1/contacts/sync (mayknow), "
        "1,000 numbers, 30% members, one request at a time\n\n" + common.table(head, out)
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--iterations", type=int, default=15)
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    p.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = p.parse_args(argv)
    if not (1 <= args.accounts <= common.MAX_ACCOUNTS and 1 <= args.iterations <= 1000):
        p.error("--accounts or --iterations out of range")
    result = measure(args.accounts, args.iterations, cache_dir=args.cache_dir, venv=args.venv)
    print(report([result], {}))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
