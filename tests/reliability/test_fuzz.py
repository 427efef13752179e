"""API fuzzing: schemathesis against the generated OpenAPI document, every operation,
signed in as a fresh member; no 5xx and every answer as the document says it would be.

schemathesis's own pytest integration (``from_fixture``) does not run under pytest 9, so
the test drives its strategies with Hypothesis directly: per operation, ``EXAMPLES``
valid and ``EXAMPLES`` invalid requests, derandomized so every run sends the same ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mayknow.bootstrap import Container
from mayknow.entrypoints.api.app import create_app
from tests.conftest import Member, People, grant
from tests.integration.test_partners import SISTER, SISTER_URI, _log_in

EXAMPLES = 20  # per operation and mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations after which the caller's session no longer works: a fresh member each time.
SESSION_ENDING = {("DELETE", "/v1/me"), ("POST", "/v1/auth/logout")}


@dataclass
class Tally:
    operations: int = 0
    examples: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


class Caller:
    """The bearer token each case is sent with: a member's, or a partner's for /v1/partner."""

    def __init__(self, people: People, client: TestClient) -> None:
        self.people, self.client = people, client
        self.member = self._fresh()
        self.partner_token = _log_in(client, self.member)

    def _fresh(self) -> Member:
        someone = self.people.sign_up("模糊测试")
        purposes = ("contacts_upload", "discoverable_by_phone", "share_with_partner_apps")
        grant(self.client, someone, *purposes)
        return someone

    def token_for(self, case: schemathesis.Case) -> str:
        if case.path.startswith("/v1/partner/"):
            return self.partner_token
        if (case.method.upper(), case.path) in SESSION_ENDING:
            return self.people.sign_up("一次性").token
        return self.member.token


def _modes(definition: dict[str, Any]) -> list[GenerationMode]:
    """Invalid requests too, unless nothing can be invalid (only free-form path strings)."""
    constrained = "requestBody" in definition or any(
        p["in"] != "path" or p["schema"].get("type") != "string"
        for p in definition.get("parameters", [])
    )
    if constrained:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, caller: Caller) -> Tally:
    tally = Tally()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {caller.token_for(case)}"})
        tally.examples += 1
        tally.statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # no invalid request exists (no parameters, or free-form strings)
        pass
    except (Exception, BaseExceptionGroup) as exc:  # one finding must not hide the others
        tally.failures.append(f"{operation.label} [{mode.value}]: {_describe(exc)}")
    return tally


@pytest.mark.slow
def test_no_operation_answers_5xx_or_off_its_documented_schema(
    container: Container, people: People, client: TestClient, tmp_path: Path
) -> None:
    set_hypothesis_home_dir(tmp_path / "hypothesis")  # not .hypothesis/ in the work tree
    container.partners.add(SISTER, "多闪", [SISTER_URI], ["matched_contacts"])
    app = create_app(container)
    document = app.openapi()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    caller = Caller(people, client)
    total = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        total.operations += 1
        for mode in _modes(document["paths"][operation.path][operation.method.lower()]):
            tally = _fuzz(operation, mode, caller)
            total.examples += tally.examples
            total.statuses.update(tally.statuses)
            total.failures += tally.failures
    print(f"fuzzed {total.operations} operations, {total.examples} requests: {total.statuses}")
    assert total.operations >= 50
    assert not total.failures, "\n\n".join(total.failures)
