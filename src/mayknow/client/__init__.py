"""A Python client for mayknow's address-book endpoints, plain and private.

``Client.sync`` uploads numbers and keeps the quota token (Signal's scheme) so that numbers
synced before are not charged again; ``Client.private_sync`` finds the same people without
the server ever seeing a number (RFC 9497 OPRF and the published cuckoo filter).
"""

from mayknow.client.http import Client, QuotaState

__all__ = ["Client", "QuotaState"]
