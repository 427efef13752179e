"""Private mode: OPRF evaluation cost, the filter's size and false positives, OpenMined PSI.

    python bench/contacts/private.py --accounts 1000000 [--psi] [--queries 100000000]

1. **Server CPU per contact.** ``oprf.blind_evaluate_many(sk, elements)`` on 1,000 blinded
   elements (made with ``oprf.blind``), against a bare ``crypto_scalarmult_ristretto255``:
   (a) in C, a loop compiled now with gcc against the same libsodium (no Python at all), and
   (b) from Python through ctypes, one call per element, preallocated output. CPU time of the
   calling thread, rounds interleaved (A, B, C, A, B, C, ...), median per element.
   http_sync.py adds (c): the server CPU of a whole ``POST /v1/contacts/private/evaluate``
   per element. The target compares blind_evaluate_many with (a).
2. **Filter.** The filter the server publishes, built as the server builds it
   (``PrivateDiscovery.filter()``: read every tag8, ``CuckooFilter.build``, ``to_bytes``) when the
   store has its discovery tags, else from N random 8-byte tags (an OPRF output is uniform,
   so the filter's size and false positives do not depend on which). Bytes per account =
   published bytes / N. False positives: Q random 8-byte query tags (not members, but for a
   2**-64 chance each) looked up in the published bytes, vectorised with numpy following
   the format in cuckoo.py's docstring, and checked against ``tag in filter`` on the first
   200,000. No false negatives: every member's tag (up to 200,000 of them) must be found.
3. **OpenMined PSI** (``openmined-psi``, in its own venv, default /tmp/psi-venv) at N server
   items and 1,000 client items (psi_child.py), next to mayknow's private flow: server CPU for
   the set-up (mayknow: an OPRF evaluation per account, done once when a member becomes
   discoverable, plus the filter build) and per request, and bytes on the wire.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import ctypes.util
import json
import math
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.contacts import common, seed

PSI_VENV = Path("/tmp/psi-venv")  # noqa: S108 - a venv of a pinned package, rebuilt if gone
PSI_PACKAGE = "openmined-psi==2.0.6"
FPR_BOUND = 2**-20  # cuckoo.py: 8 compared fingerprints x 2 / 2**24
CHECK_SAMPLE = 200_000

C_LOOP = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int sodium_init(void);
int crypto_scalarmult_ristretto255(unsigned char *q, const unsigned char *n,
                                   const unsigned char *p);
void crypto_core_ristretto255_scalar_random(unsigned char *r);
int crypto_core_ristretto255_from_hash(unsigned char *p, const unsigned char *r);
void randombytes_buf(void *buf, size_t size);
static double cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}
int main(int argc, char **argv) {
    if (argc != 2 || sodium_init() < 0) return 1;
    int n = atoi(argv[1]);
    if (n < 1 || n > 1000000) return 1;
    unsigned char *points = malloc(32 * (size_t)n), k[32], out[32], h[64];
    crypto_core_ristretto255_scalar_random(k);
    for (int i = 0; i < n; i++) {
        randombytes_buf(h, 64);
        crypto_core_ristretto255_from_hash(points + 32 * i, h);
    }
    double t0 = cpu_ns();
    for (int i = 0; i < n; i++)
        if (crypto_scalarmult_ristretto255(out, k, points + 32 * i) != 0) return 2;
    printf("%.1f\n", (cpu_ns() - t0) / n);
    return 0;
}
"""


# -- 1. CPU per contact --------------------------------------------------------------------------
def _libsodium_name() -> str:
    from mayknow.identity import oprf

    loaded = getattr(oprf, "_sodium", None)  # the library mayknow loaded, if it says
    return str(getattr(loaded, "_name", None) or ctypes.util.find_library("sodium"))


def _compile_c(workdir: Path, library: str) -> Path | None:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        return None
    source, binary = workdir / "scalarmult.c", workdir / "scalarmult"
    source.write_text(C_LOOP)
    link = f"-l:{Path(library).name}" if not library.startswith("/") else library
    done = subprocess.run(
        [gcc, "-O2", "-o", str(binary), str(source), link],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return binary if done.returncode == 0 else None


def oprf_cpu(elements_per_round: int = 1000, rounds: int = 7) -> dict[str, Any]:
    """Median CPU µs per element: blind_evaluate_many, bare ctypes call, bare C loop."""
    from mayknow.identity import oprf

    library = _libsodium_name()
    lib = ctypes.CDLL(library)
    scalarmult = lib.crypto_scalarmult_ristretto255
    scalarmult.argtypes = [ctypes.c_char_p] * 3
    scalarmult.restype = ctypes.c_int
    sk = oprf.generate_key()
    elements = [oprf.blind(common.member_e164(i).encode())[1] for i in range(elements_per_round)]
    out = ctypes.create_string_buffer(32)
    timings: dict[str, list[float]] = {"blind_evaluate_many": [], "ctypes": [], "c": []}
    workdir = Path(tempfile.mkdtemp(prefix="mayknow-contacts-c-"))
    try:
        binary = _compile_c(workdir, library)
        for _ in range(rounds):
            c0 = time.thread_time_ns()
            evaluated = oprf.blind_evaluate_many(sk, elements)
            c1 = time.thread_time_ns()
            for element in elements:
                scalarmult(out, sk, element)
            c2 = time.thread_time_ns()
            if len(evaluated) != len(elements) or out.raw != evaluated[-1]:
                raise AssertionError("blind_evaluate_many and the bare call disagree")
            timings["blind_evaluate_many"].append((c1 - c0) / 1000 / len(elements))
            timings["ctypes"].append((c2 - c1) / 1000 / len(elements))
            if binary is not None:
                done = subprocess.run(
                    [str(binary), str(elements_per_round)],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=True,
                )
                timings["c"].append(float(done.stdout) / 1000)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    medians = {k: statistics.median(v) if v else float("nan") for k, v in timings.items()}
    return {
        "us": medians,
        "rounds": rounds,
        "elements": elements_per_round,
        "library": library,
        "c_compiled": binary is not None,
    }


def tag_cpu(count: int = 2000) -> float:
    """CPU µs of one server-side OPRF evaluation (a member's tag: discovery.tag_of)."""
    from mayknow.contacts import discovery
    from mayknow.identity.keyring import KeyRing

    keys = KeyRing.of({1: bytes(32)}, 1, oprf_seed=bytes(range(32)))
    numbers = [common.member_e164(i) for i in range(count)]
    c0 = time.thread_time_ns()
    for e164 in numbers:
        discovery.tag_of(keys, e164)
    return (time.thread_time_ns() - c0) / 1000 / count


# -- 2. the filter -------------------------------------------------------------------------------
def published_filter(store: seed.Store) -> tuple[bytes, float, str]:
    """(bytes, server CPU s, source): the server's own filter if the store has tags."""
    if store.tags:
        with seed.container_for(store) as container:
            c0 = time.process_time()
            _version, raw = container.private.filter()
            return raw, time.process_time() - c0, "the store's discovery tags"
    return synthetic_filter(store.accounts)


def synthetic_filter(accounts: int, seed_value: int = 5) -> tuple[bytes, float, str]:
    from mayknow.contacts.cuckoo import CuckooFilter

    data = random.Random(seed_value).randbytes(8 * accounts)
    tags = [data[i : i + 8] for i in range(0, len(data), 8)]
    c0 = time.process_time()
    raw = CuckooFilter.build(tags).to_bytes()
    return raw, time.process_time() - c0, "random 8-byte tags (synthetic)"


def _member_tags_sample(store: seed.Store, limit: int) -> list[bytes]:
    if not store.tags:
        return []
    from sqlalchemy import select

    from mayknow.contacts.models import DiscoveryTag

    with seed.container_for(store) as container, container.uow.read() as session:
        rows = session.scalars(select(DiscoveryTag.tag).limit(limit))
        return [tag[:8] for tag in rows]


def false_positives(raw: bytes, queries: int, seed_value: int = 6) -> dict[str, Any]:
    """Look up ``queries`` random tags in the published filter bytes (numpy, vectorised)."""
    import numpy as np

    from mayknow.contacts.cuckoo import CuckooFilter

    m = struct.unpack_from("<I", raw, 8)[0]
    body = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 3).astype(np.uint32)
    slots = (body[:, 0] | (body[:, 1] << 8) | (body[:, 2] << 16)).reshape(m, 4)
    reference = CuckooFilter.from_bytes(raw)
    rng = np.random.default_rng(seed_value)
    hits, done, chunk = 0, 0, 4_000_000
    started = time.monotonic()
    while done < queries:
        k = min(chunk, queries - done)
        x = rng.integers(0, 2**64 - 1, size=k, dtype=np.uint64, endpoint=True)
        fp = (x >> np.uint64(40)).astype(np.uint64)
        fp[fp == 0] = 1
        i1 = (x & np.uint64(0xFFFFFFFF)) % np.uint64(m)
        h = ((fp * np.uint64(0x5BD1E995)) & np.uint64(0xFFFFFFFF)) % np.uint64(m)
        i2 = (h.astype(np.int64) - i1.astype(np.int64)) % m
        fp32 = fp.astype(np.uint32)[:, None]
        hit = (slots[i1.astype(np.int64)] == fp32).any(axis=1) | (slots[i2] == fp32).any(axis=1)
        if done == 0:  # the vectorised lookup must agree with the filter's own
            sample = min(k, CHECK_SAMPLE)
            own = [int(v).to_bytes(8, "little") in reference for v in x[:sample]]
            if own != hit[:sample].tolist():
                raise AssertionError("the vectorised lookup disagrees with CuckooFilter")
        hits += int(hit.sum())
        done += k
    upper = (hits + 1.96 * math.sqrt(hits) + 1.92 + 1) / queries if hits else 3.0 / queries
    load = len(reference) / (4 * m)
    return {
        "queries": queries,
        "hits": hits,
        "fpr": hits / queries,
        "fpr_upper95": upper,
        "expected": 8 * load / 2**24,
        "seconds": time.monotonic() - started,
        "buckets": m,
        "load": load,
        "items": len(reference),
    }


def filter_stats(store: seed.Store | None, accounts: int, queries: int) -> dict[str, Any]:
    from mayknow.contacts.cuckoo import CuckooFilter

    if store is not None:
        raw, build_cpu, source = published_filter(store)
    else:
        raw, build_cpu, source = synthetic_filter(accounts)
    stats = false_positives(raw, queries)
    members = _member_tags_sample(store, CHECK_SAMPLE) if store is not None else []
    if members:
        published = CuckooFilter.from_bytes(raw)
        missing = sum(1 for tag in members if tag not in published)
        if missing:
            raise AssertionError(f"{missing} members' tags are not in the filter")
    return {
        **stats,
        "accounts": accounts,
        "bytes": len(raw),
        "bytes_per_account": len(raw) / accounts,
        "build_cpu_s": build_cpu,
        "source": source,
        "members_checked": len(members),
    }


# -- 3. OpenMined PSI ----------------------------------------------------------------------------
def psi(accounts: int, structures: str, venv: Path, say: Callable[[str], None]) -> dict[str, Any]:
    python = common.venv_with(venv, (PSI_PACKAGE,), "private_set_intersection.python", say)
    done = subprocess.run(
        [
            str(python),
            str(common.HERE / "psi_child.py"),
            "--accounts",
            str(accounts),
            "--structures",
            structures,
        ],
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psi_child.py failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def mayknow_wire(book: common.Book) -> dict[str, int]:
    """Bytes of one private lookup of a book: raw and as the JSON bodies mayknow's API uses."""
    n, hits = len(book.e164), book.members
    b64 = len(base64.b64encode(bytes(32)))
    b64_out = len(base64.b64encode(bytes(64)))
    return {
        "request_raw": 32 * n,
        "response_raw": 32 * n,
        "report_raw": 64 * hits,
        "request_json": len(json.dumps({"elements": ["x" * b64] * n})),
        "response_json": len(json.dumps({"evaluated": ["x" * b64] * n})),
        "report_json": len(json.dumps({"outputs": ["x" * b64_out] * hits, "replace": True})),
    }


# -- the whole -----------------------------------------------------------------------------------
def measure(
    store: seed.Store | None,
    accounts: int,
    *,
    queries: int,
    rounds: int = 7,
    elements: int = 1000,
    with_psi: bool = False,
    psi_structures: str = "gcs",
    psi_venv: Path = PSI_VENV,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    say(f"  OPRF evaluation CPU ({rounds} rounds of {elements:,} elements) ...")
    result: dict[str, Any] = {"oprf": oprf_cpu(elements, rounds), "tag_us": tag_cpu()}
    say(f"  filter of {accounts:,} accounts, {queries:,} false-positive queries ...")
    result["filter"] = filter_stats(store, accounts, queries)
    result["wire"] = mayknow_wire(common.make_book(random.Random(4), accounts))
    if with_psi:
        say(
            f"  OpenMined PSI at {accounts:,} server items, 1,000 client items "
            f"({psi_structures}) ..."
        )
        result["psi"] = psi(accounts, psi_structures, psi_venv, say)
    return result


def report_cpu(r: dict[str, Any], http_evaluate: dict[str, Any] | None) -> str:
    us = r["oprf"]["us"]
    bare = us["c"] if us["c"] == us["c"] else us["ctypes"]
    rows = [
        [
            "bare libsodium, C loop (gcc -O2)",
            f"{us['c']:.1f}",
            "1.00×" if us["c"] == us["c"] else "n/a",
        ],
        [
            "bare libsodium via ctypes, one call per element",
            f"{us['ctypes']:.1f}",
            f"{us['ctypes'] / bare:.3f}×",
        ],
        [
            "oprf.blind_evaluate_many (1,000 elements)",
            f"{us['blind_evaluate_many']:.1f}",
            f"{us['blind_evaluate_many'] / bare:.3f}×",
        ],
    ]
    if http_evaluate is not None:
        per = http_evaluate["server_cpu_ms_per_request"] * 1000 / 1000  # µs per element
        rows.append(
            [
                "POST /v1/contacts/private/evaluate, server CPU / element "
                f"({http_evaluate['summary']['n']} requests of 1,000)",
                f"{per:.1f}",
                f"{per / bare:.3f}×",
            ]
        )
    ratio = us["blind_evaluate_many"] / bare
    verdict = (
        f"- target (blind_evaluate_many ≤ 1.25× bare scalar multiplication): "
        f"**{'MET' if ratio <= 1.25 else 'MISSED'}** ({ratio:.3f}×)"
    )
    return (
        "Server CPU per contact (µs of CPU, median of "
        f"{r['oprf']['rounds']} interleaved rounds; {r['oprf']['library']})\n\n"
        + common.table(["what", "µs/contact", "vs bare C"], rows)
        + "\n\n"
        + verdict
    )


def report_filter(rows: list[dict[str, Any]]) -> str:
    out = []
    for f in rows:
        ok = f["bytes_per_account"] < 4 and f["fpr_upper95"] < 1e-6
        verdict = f"**{'MET' if ok else 'MISSED'}**"
        if f["queries"] * 1e-6 < 30:  # fewer than ~30 expected hits at 1e-6: cannot tell
            verdict = "n/a (too few lookups)"
        out.append(
            [
                common.human(f["accounts"]),
                f["source"],
                f"{f['bytes']:,}",
                f"{f['bytes_per_account']:.3f}",
                f"{f['load']:.3f}",
                f"{f['build_cpu_s']:.1f}",
                f"{f['queries']:,}",
                f["hits"],
                f"{f['fpr']:.2e}",
                f"{f['fpr_upper95']:.2e}",
                f"{f['expected']:.2e}",
                verdict,
            ]
        )
    head = [
        "accounts",
        "tags",
        "filter bytes",
        "bytes/account",
        "load",
        "build CPU s",
        "queries",
        "false positives",
        "FPR",
        "FPR 95% upper",
        "expected 8·load/2²⁴",
        "< 4 B and < 1e-6",
    ]
    return "Private-discovery filter (MKCF v1)\n\n" + common.table(head, out)


def report_psi(r: dict[str, Any], http_evaluate: dict[str, Any] | None) -> str:
    p, f, w = r["psi"], r["filter"], r["wire"]
    n = p["accounts"]
    per_request_cpu = (
        http_evaluate["server_cpu_ms_per_request"]
        if http_evaluate  # ms
        else r["oprf"]["us"]["blind_evaluate_many"]
    )  # µs/element x 1,000 = ms
    per_request_what = "HTTP evaluate, measured" if http_evaluate else "blind_evaluate_many only"
    setup_cpu = n * r["tag_us"] / 1e6 + f["build_cpu_s"]
    rows = [
        [
            "mayknow (cuckoo filter + OPRF)",
            f"{setup_cpu:,.0f} (tags {n * r['tag_us'] / 1e6:,.0f} + filter {f['build_cpu_s']:.0f})",
            f"{f['bytes']:,}",
            f"{per_request_cpu:.0f} ({per_request_what})",
            f"{w['request_raw']:,} ({w['request_json']:,} as JSON)",
            f"{w['response_raw']:,} ({w['response_json']:,})",
            f"{f['bytes'] + w['request_raw'] + w['response_raw']:,}",
            f"{w['request_raw'] + w['response_raw']:,}",
        ]
    ]
    for run in p["runs"]:
        rows.append(
            [
                f"OpenMined PSI {p['version']} ({run['structure']})",
                f"{run['setup_cpu_s']:,.0f}",
                f"{run['setup_bytes']:,}",
                f"{run['server_request_cpu_s'] * 1000:.0f}",
                f"{run['request_bytes']:,}",
                f"{run['response_bytes']:,}",
                f"{run['setup_bytes'] + run['request_bytes'] + run['response_bytes']:,}",
                f"{run['request_bytes'] + run['response_bytes']:,}",
            ]
        )
    head = [
        "system",
        "server set-up CPU s",
        "set-up bytes (filter)",
        "server CPU ms/request",
        "request bytes",
        "response bytes",
        "first lookup bytes",
        "later lookup bytes",
    ]
    note = (
        f"- {n:,} server items, {p['client_items']:,} client items (30% members); PSI fpr "
        f"{p['fpr']:g} per query of 1,000 = 1e-6 per item. mayknow's report of the "
        f"{round(0.3 * p['client_items'])} hits adds {w['report_raw']:,} bytes "
        f"({w['report_json']:,} as JSON); PSI reveals the intersection to the client "
        "only. Set-up: mayknow's tags are computed once per member (at consent), its "
        "filter once per filter_max_age for all clients; PSI's set-up message is per "
        "server key."
    )
    return "Private mode vs OpenMined PSI\n\n" + common.table(head, rows) + "\n\n" + note


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--queries", type=int, default=100_000_000)
    p.add_argument("--synthetic", action="store_true", help="no store: random tags")
    p.add_argument("--psi", action="store_true")
    p.add_argument("--psi-structures", default="gcs")
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    args = p.parse_args(argv)
    if not (1 <= args.queries <= 10**10 and 16 <= args.accounts <= common.MAX_ACCOUNTS):
        p.error("--queries or --accounts out of range")
    store = None
    if not args.synthetic:
        store = seed.sqlite_store(args.accounts, args.cache_dir, tags=True)
    result = measure(
        store,
        args.accounts,
        queries=args.queries,
        with_psi=args.psi,
        psi_structures=args.psi_structures,
    )
    print(report_cpu(result, None))
    print(report_filter([result["filter"]]))
    if args.psi:
        print(report_psi(result, None))
    with contextlib.suppress(TypeError):
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
