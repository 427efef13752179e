"""People you may know, each with its reasons; why; dismiss; block."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from mayknow.entrypoints.api.deps import Caller, Services, parse_user_id
from mayknow.entrypoints.api.schemas import Suggestions, Why

router = APIRouter(tags=["suggestions"])


# The reading routes stay blocking (one hop through the thread pool once the caller is
# known): they read a dozen statements' worth of rows, and a page not yet in the file cache
# then stalls one thread, not the event loop (bench/suggestions_http/results.md).
@router.get("/v1/suggestions", response_model_exclude_none=True)
def suggestions(
    caller: Caller, services: Services, limit: Annotated[int, Query()] = 20
) -> Suggestions:
    shown = services.suggestions.suggestions(caller, limit)
    return Suggestions.model_validate({"suggestions": [s.__dict__ for s in shown]})


@router.get("/v1/suggestions/{user_id}/why", response_model_exclude_none=True)
def why(user_id: str, caller: Caller, services: Services) -> Why:
    """The same reasons the list shows; 404 when that account is not a current suggestion."""
    return Why.model_validate({"reasons": services.suggestions.why(caller, parse_user_id(user_id))})


@router.post("/v1/suggestions/{user_id}/dismiss", status_code=status.HTTP_204_NO_CONTENT)
def dismiss(user_id: str, caller: Caller, services: Services) -> None:
    services.suggestions.dismiss(caller, parse_user_id(user_id))


@router.delete("/v1/suggestions/{user_id}/dismiss", status_code=status.HTTP_204_NO_CONTENT)
def undismiss(user_id: str, caller: Caller, services: Services) -> None:
    services.suggestions.undismiss(caller, parse_user_id(user_id))


@router.post("/v1/blocks/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def block(user_id: str, caller: Caller, services: Services) -> None:
    """Block: no suggestion either way, and follows between the two end."""
    services.suggestions.block(caller, parse_user_id(user_id))


@router.delete("/v1/blocks/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def unblock(user_id: str, caller: Caller, services: Services) -> None:
    services.suggestions.unblock(caller, parse_user_id(user_id))
