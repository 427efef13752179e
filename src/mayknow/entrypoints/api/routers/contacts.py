"""Address-book sync: numbers in, matches out, nothing else kept."""

from __future__ import annotations

from fastapi import APIRouter, status

from mayknow.contacts.service import QuotaProof, SyncResult
from mayknow.entrypoints.api.deps import Caller, Services, parse_user_id
from mayknow.entrypoints.api.schemas import DeltaRequest, QuotaProofIn, SyncOut, SyncRequest

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])


def _proof(quota: QuotaProofIn | None) -> QuotaProof | None:
    return None if quota is None else QuotaProof(quota.secret, quota.previous)


def _out(result: SyncResult) -> SyncOut:
    return SyncOut.model_validate(result, from_attributes=True)


@router.post("/sync")
def sync(body: SyncRequest, caller: Caller, services: Services) -> SyncOut:
    """Match the whole address book; the caller's edges become exactly its matches."""
    return _out(services.contacts.sync(caller, body.phones, _proof(body.quota)))


@router.post("/sync/delta")
def sync_delta(body: DeltaRequest, caller: Caller, services: Services) -> SyncOut:
    """Match the numbers added since the last sync and drop the edges of those removed."""
    return _out(services.contacts.sync_delta(caller, body.add, body.remove, _proof(body.quota)))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def delete_all(caller: Caller, services: Services) -> None:
    """Erase every edge from the caller's uploads."""
    services.contacts.delete_all(caller)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_one(user_id: str, caller: Caller, services: Services) -> None:
    """Erase the one edge from the caller's uploads to this account."""
    services.contacts.delete_one(caller, parse_user_id(user_id))
