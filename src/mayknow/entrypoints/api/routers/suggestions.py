"""People you may know, each with its reasons; why; dismiss; block."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from mayknow.accounts.sessions import Principal
from mayknow.entrypoints.api.deps import AsCaller, Caller, Services, parse_user_id
from mayknow.entrypoints.api.schemas import Suggestions, Why
from mayknow.suggestions.service import Shown

router = APIRouter(tags=["suggestions"])


# On SQLite the reads run on the event loop (``Asking.as_caller``): with the store's pages in
# the file cache that gave p99 21 ms at 200/s on 1M members, against 67 ms with one hop
# through the thread pool, where a dozen GIL hand-overs per request queue behind each
# other. A page that is not cached stalls the worker's loop while it is read: see
# bench/suggestions_http/results.md (2026-11-28, 04:47 and 05:03 UTC).
@router.get("/v1/suggestions", response_model_exclude_none=True)
async def suggestions(asking: AsCaller, limit: Annotated[int, Query()] = 20) -> Suggestions:
    def shown(caller: Principal) -> list[Shown]:
        return asking.services.suggestions.suggestions(caller, limit)

    listed = await asking.as_caller(shown, shown)
    return Suggestions.model_validate({"suggestions": [s.__dict__ for s in listed]})


@router.get("/v1/suggestions/{user_id}/why", response_model_exclude_none=True)
async def why(user_id: str, asking: AsCaller) -> Why:
    """The same reasons the list shows; 404 when that account is not a current suggestion."""

    def reasons(caller: Principal) -> list[dict[str, object]]:  # 401 before 404
        return asking.services.suggestions.why(caller, parse_user_id(user_id))

    return Why.model_validate({"reasons": await asking.as_caller(reasons, reasons)})


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
