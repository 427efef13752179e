"""Private discovery: filter, evaluation of blinded elements, report of matches."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response

from mayknow.entrypoints.api.deps import INTEGER_MAX, Address, Caller, Services
from mayknow.entrypoints.api.schemas import (
    Elements,
    Evaluated,
    FilterChanges,
    PrivateReport,
    PrivateReportOut,
)
from mayknow.shared.errors import InvalidInput

router = APIRouter(prefix="/v1/contacts/private", tags=["contacts"])


def _decode(values: Sequence[str], field: str) -> list[bytes]:
    decoded = []
    for index, value in enumerate(values):
        try:
            decoded.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInput("invalid_base64", "Not base64.", field=f"{field}[{index}]") from None
    return decoded


def _encode(values: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


@router.get(
    "/filter",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_filter(_caller: Caller, services: Services) -> Response:
    """The cuckoo filter (format MKCF v1) of every discoverable member's tag."""
    version, body = services.private.filter()
    return Response(
        body, media_type="application/octet-stream", headers={"X-Filter-Version": str(version)}
    )


@router.get("/filter/changes")
def filter_changes(
    _caller: Caller, services: Services, since: Annotated[int, Query(ge=0, le=INTEGER_MAX)]
) -> FilterChanges:
    """Members who became discoverable after version ``since``; 404 when too old."""
    delta = services.private.changes(since)
    return FilterChanges(since=delta.since, version=delta.version, added=_encode(delta.added))


@router.post("/evaluate")
def evaluate(body: Elements, caller: Caller, services: Services, address: Address) -> Evaluated:
    """Evaluate blinded elements with the OPRF key; each costs one discovery permit."""
    elements = _decode(body.elements, "elements")
    return Evaluated(evaluated=_encode(services.private.evaluate(caller, elements, address)))


@router.post("/report")
def report(body: PrivateReport, caller: Caller, services: Services) -> PrivateReportOut:
    """Form edges to the discoverable members behind the outputs that hit the filter."""
    outputs = _decode(body.outputs, "outputs")
    return PrivateReportOut.model_validate(
        services.private.report(caller, outputs, body.replace), from_attributes=True
    )
