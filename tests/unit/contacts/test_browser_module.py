"""The browser module (web/private-discovery) against the Python OPRF and cuckoo filter.

Runs its own ``node --test`` suite, then drives it through ``tools/cli.js``: JavaScript blinds
and finalizes, Python evaluates with a fresh random key, and the outputs must equal Python's
``evaluate``. Skipped only where Node.js is not installed.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mayknow.contacts.cuckoo import CuckooFilter, tag_of
from mayknow.identity import oprf

MODULE = Path(__file__).resolve().parents[3] / "web" / "private-discovery"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js (node) is not installed")


@pytest.fixture(scope="module")
def node() -> str:
    assert NODE is not None
    if not (MODULE / "node_modules" / "@noble" / "curves").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "node is installed but npm is not: cannot install node_modules"
        subprocess.run(
            [npm, "ci", "--prefix", str(MODULE), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return NODE


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def fictional_numbers(n: int) -> list[str]:
    """Fresh random numbers from the UK's range for drama, +44 7700 900000-900999."""
    return [f"+447700900{secrets.randbelow(1000):03d}" for _ in range(n)]


class Bridge:
    """tools/cli.js: one JSON request per line in, one answer per line out."""

    def __init__(self, node: str) -> None:
        self.process = subprocess.Popen(
            [node, str(MODULE / "tools" / "cli.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.watchdog = threading.Timer(60, self.process.kill)
        self.watchdog.start()

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        self.stdin.write(json.dumps(message) + "\n")
        self.stdin.flush()
        answer: dict[str, Any] = json.loads(self.stdout.readline())
        assert "error" not in answer, answer["error"]
        return answer

    def close(self) -> None:
        self.stdin.close()
        self.stdout.close()
        assert self.process.wait(timeout=30) == 0
        self.watchdog.cancel()


@pytest.fixture
def bridge(node: str) -> Iterator[Bridge]:
    bridge = Bridge(node)
    yield bridge
    bridge.close()


def test_the_browser_modules_own_suite_passes(node: str) -> None:
    result = subprocess.run(
        [node, "--test"], cwd=MODULE, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "# fail 0" in result.stdout
    assert "# pass 0" not in result.stdout


def test_javascript_blinds_and_finalizes_to_pythons_outputs(bridge: Bridge) -> None:
    numbers = fictional_numbers(3)
    sk = oprf.generate_key()
    blinded = bridge.ask({"op": "blind", "numbers": numbers})
    evaluated = oprf.blind_evaluate_many(sk, [unb64(item) for item in blinded["blinded"]])
    members = CuckooFilter.build([tag_of(oprf.evaluate(sk, numbers[1].encode()))])
    answer = bridge.ask(
        {
            "op": "finalize",
            "numbers": numbers,
            "blinds": blinded["blinds"],
            "evaluated": [b64(item) for item in evaluated],
            "filter": b64(members.to_bytes()),
        }
    )
    assert answer["outputs"] == [oprf.evaluate(sk, number.encode()).hex() for number in numbers]
    assert answer["has"] == [number == numbers[1] for number in numbers]


def test_python_finalizes_what_javascript_blinded(bridge: Bridge) -> None:
    number = fictional_numbers(1)[0]
    sk = oprf.generate_key()
    blinded = bridge.ask({"op": "blind", "numbers": [number]})
    blind, element = unb64(blinded["blinds"][0]), unb64(blinded["blinded"][0])
    output = oprf.finalize(number.encode(), blind, oprf.blind_evaluate(sk, element))
    assert output == oprf.evaluate(sk, number.encode())


def test_discover_reports_the_numbers_in_pythons_filter(bridge: Bridge) -> None:
    numbers = [f"+447700900{i:03d}" for i in secrets.SystemRandom().sample(range(1000), 6)]
    discoverable = {numbers[0], numbers[4]}
    sk = oprf.generate_key()
    accounts = [oprf.evaluate(sk, number.encode()) for number in sorted(discoverable)]
    others = [tag_of(secrets.token_bytes(64)) for _ in range(1000)]
    cuckoo = CuckooFilter.build([tag_of(output) for output in accounts] + others)
    request = bridge.ask({"op": "discover", "numbers": numbers, "filter": b64(cuckoo.to_bytes())})
    assert len(request["blinded"]) == len(numbers)
    evaluated = oprf.blind_evaluate_many(sk, [unb64(item) for item in request["blinded"]])
    answer = bridge.ask({"evaluated": [b64(item) for item in evaluated]})
    assert [match["index"] for match in answer["matches"]] == [0, 4]
    assert [match["output"] for match in answer["matches"]] == [
        oprf.evaluate(sk, numbers[index].encode()).hex() for index in (0, 4)
    ]
