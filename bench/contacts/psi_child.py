"""OpenMined PSI, server and client in one process: CPU and bytes of each message.

Run by private.py under the venv that holds ``openmined-psi`` (never mayknow's):

    /tmp/psi-venv/bin/python bench/contacts/psi_child.py --accounts 1000000 --fpr 1e-3

Server items: the E.164 numbers of members 0..N-1 (common.py). Client items: one book of
1,000 numbers, 30% members. ``fpr`` is the library's false-positive probability for a whole
query of ``num_client_inputs`` items; 1e-3 over 1,000 items is 1e-6 per item, mayknow's
per-lookup bound. ``reveal_intersection=True``: the client learns which of its numbers
match, as in mayknow. CPU is ``time.process_time()`` (every thread of this process) around
each call; sizes are the serialized protobuf messages, i.e. the bytes on the wire.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.contacts import common


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--fpr", type=float, default=1e-3)
    p.add_argument("--structures", default="gcs", help="comma-separated: gcs, bloom, raw")
    p.add_argument("--seed", type=int, default=4)
    args = p.parse_args(argv)
    from importlib.metadata import version

    import private_set_intersection.python as psi

    kinds = {
        "gcs": psi.DataStructure.GCS,
        "bloom": psi.DataStructure.BLOOM_FILTER,
        "raw": psi.DataStructure.RAW,
    }
    book = common.make_book(random.Random(args.seed), args.accounts)
    server_items = [common.member_e164(k) for k in range(args.accounts)]
    results = []
    for name in args.structures.split(","):
        server = psi.server.CreateWithNewKey(True)
        client = psi.client.CreateWithNewKey(True)
        c0, w0 = time.process_time(), time.perf_counter()
        setup = server.CreateSetupMessage(args.fpr, len(book.e164), server_items, kinds[name])
        setup_cpu, setup_wall = time.process_time() - c0, time.perf_counter() - w0
        setup_bytes = len(setup.SerializeToString())
        c0 = time.process_time()
        request = client.CreateRequest(book.e164)
        request_cpu = time.process_time() - c0
        c0 = time.process_time()
        response = server.ProcessRequest(request)
        process_cpu = time.process_time() - c0
        c0 = time.process_time()
        found = client.GetIntersection(setup, response)
        finish_cpu = time.process_time() - c0
        if len(found) != book.members:
            raise SystemExit(f"PSI found {len(found)} members, expected {book.members}")
        results.append(
            {
                "structure": name,
                "setup_cpu_s": setup_cpu,
                "setup_wall_s": setup_wall,
                "setup_bytes": setup_bytes,
                "request_bytes": len(request.SerializeToString()),
                "response_bytes": len(response.SerializeToString()),
                "server_request_cpu_s": process_cpu,
                "client_cpu_s": request_cpu + finish_cpu,
                "found": len(found),
            }
        )
    print(
        json.dumps(
            {
                "version": version("openmined-psi"),
                "accounts": args.accounts,
                "client_items": len(book.e164),
                "fpr": args.fpr,
                "runs": results,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
