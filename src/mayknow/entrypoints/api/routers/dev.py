"""Development mode only: read the last code sent to a number (mounted only with --dev)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mayknow.entrypoints.api.deps import Services
from mayknow.entrypoints.api.schemas import OutboxCode
from mayknow.shared.errors import NotFound

router = APIRouter(prefix="/v1/dev", tags=["development"])


@router.get("/outbox")
def outbox(phone: Annotated[str, Query(max_length=64)], services: Services) -> OutboxCode:
    e164 = services.accounts.parse_phone(phone)
    code = services.outbox.last_code(e164) if services.outbox else None
    if code is None:
        raise NotFound("no_code", "No code was sent to that number.")
    return OutboxCode(code=code)
