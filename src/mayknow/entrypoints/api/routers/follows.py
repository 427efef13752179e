"""Follow and unfollow."""

from __future__ import annotations

from fastapi import APIRouter, status

from mayknow.entrypoints.api.deps import Caller, Services, parse_user_id
from mayknow.entrypoints.api.schemas import FollowState

router = APIRouter(prefix="/v1/follows", tags=["graph"])


@router.post("/{user_id}")
def follow(user_id: str, caller: Caller, services: Services) -> FollowState:
    return FollowState.model_validate(services.graph.follow(caller.user_id, parse_user_id(user_id)))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def unfollow(user_id: str, caller: Caller, services: Services) -> None:
    services.graph.unfollow(caller.user_id, parse_user_id(user_id))
