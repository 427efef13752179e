"""The privacy policy and user agreement, in the caller's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query

from mayknow.entrypoints.api.schemas import PolicyOut
from mayknow.policy.texts import negotiate, policy

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get("/policy")
def get_policy(
    accept_language: Annotated[str | None, Header(max_length=512)] = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> PolicyOut:
    text = policy(negotiate(lang or accept_language))
    return PolicyOut(
        version=text.version,
        language=text.language,
        summary=text.summary,
        full=text.full,
        terms=text.terms,
    )
