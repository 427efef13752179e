"""How grants and ledger rows read in an answer or an export: kinds, names and times."""

from __future__ import annotations

from collections.abc import Mapping

from mayknow.partners.models import EgressRecord, PartnerGrant
from mayknow.shared.clock import as_utc


def grant_json(grant: PartnerGrant, names: Mapping[str, str]) -> dict[str, object]:
    return {
        "partner_id": grant.partner_id,
        "partner_name": names.get(grant.partner_id),
        "categories": grant.categories.split(),
        "granted_at": as_utc(grant.granted_at).isoformat(),
        "revoked_at": as_utc(grant.revoked_at).isoformat() if grant.revoked_at else None,
    }


def egress_json(record: EgressRecord, names: Mapping[str, str]) -> dict[str, object]:
    return {
        "partner_id": record.partner_id,
        "partner_name": names.get(record.partner_id),
        "categories": record.categories.split(),
        "count": record.count,
        "at": as_utc(record.at).isoformat(),
    }
