"""python -m bench.population --users N --out DIR [--seed S] [--no-books] [--load URL]"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from bench.population import build, write


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.population", description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True, help="folder for the Parquet files")
    parser.add_argument("--seed", type=int, default=20190209)
    parser.add_argument("--cap", type=int, default=1000, help="degree cap of the path count")
    parser.add_argument("--no-books", action="store_true", help="skip the address books")
    parser.add_argument("--load", metavar="URL", help="also load a mayknow store (migrated)")
    parser.add_argument("--data-dir", type=Path, help="key ring folder for --load")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    population = build(args.users, seed=args.seed, cap=args.cap, books=not args.no_books)
    write(population, args.out)
    generated = time.perf_counter() - started
    print(json.dumps({**asdict(population.shape), "seconds": round(generated, 1)}))
    if args.load:
        from bench.population.load import load

        counts = load(population, args.load, args.data_dir or args.out / "data")
        print(json.dumps({"loaded": counts, "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
