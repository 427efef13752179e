"""The key ring: versioned secrets in a file of the data dir, created once with 0600 rights.

From each version's master secret, purpose-bound subkeys are derived:
- phone pseudonyms: HMAC-SHA256(e164), so a number can be found without being stored;
- the secret box that encrypts a member's own number for sending codes;
- code hashes, rate-limit keys and any later keyed digest.
Old versions stay readable so that pseudonyms can be re-keyed without downtime.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from mayknow.identity import oprf

KEY_FILE = "keys.json"


class KeyRingError(RuntimeError):
    pass


@dataclass(frozen=True)
class KeyRing:
    secrets_by_version: dict[int, bytes]
    current: int
    oprf_seed: bytes = b""
    _subkeys: dict[tuple[str, int], bytes] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def subkey(self, label: str, version: int | None = None) -> bytes:
        version = self.current if version is None else version
        cached = self._subkeys.get((label, version))
        if cached is None:
            master = self.secrets_by_version[version]
            cached = hmac.digest(master, f"mayknow/{label}".encode(), "sha256")
            self._subkeys[(label, version)] = cached
        return cached

    def digest(self, label: str, data: bytes, version: int | None = None) -> bytes:
        """A keyed digest of ``data`` for one purpose (``label``)."""
        return hmac.digest(self.subkey(label, version), data, "sha256")

    def oprf_key(self) -> bytes:
        """The OPRF secret of private discovery.

        It has its own seed, not a version of the ring: rotating it changes every output
        in every client's filter at once, so it is rotated on its own (docs/contacts.md).
        """
        cached = self._subkeys.get(("oprf-key", 0))
        if cached is None:
            if not self.oprf_seed:
                raise KeyRingError("the key file has no OPRF seed")
            cached = oprf.derive_key_pair(self.oprf_seed, b"mayknow contact discovery")[0]
            self._subkeys[("oprf-key", 0)] = cached
        return cached

    def phone_pseudonym(self, e164: str, version: int | None = None) -> bytes:
        return self.digest("phone-pseudonym", e164.encode(), version)

    def phone_pseudonyms(self, e164: str) -> dict[int, bytes]:
        """The pseudonym under every version, for look-ups during a rotation."""
        return {v: self.phone_pseudonym(e164, v) for v in self.secrets_by_version}

    def encrypt(self, plaintext: bytes) -> bytes:
        box = SecretBox(self.subkey("secret-box"))
        return bytes([self.current]) + bytes(box.encrypt(plaintext))

    def decrypt(self, ciphertext: bytes) -> bytes:
        version, body = ciphertext[0], ciphertext[1:]
        try:
            return bytes(SecretBox(self.subkey("secret-box", version)).decrypt(body))
        except (KeyError, CryptoError) as exc:
            raise KeyRingError("ciphertext cannot be opened with this key ring") from exc


def load_or_create(data_dir: Path) -> KeyRing:
    """Read the key file, creating it (0600, in a 0700 dir) on first start."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / KEY_FILE
    if not path.exists():
        _create(path)
    raw = json.loads(path.read_text())
    return KeyRing(
        secrets_by_version={int(v): base64.b64decode(k) for v, k in raw["versions"].items()},
        current=int(raw["current"]),
        oprf_seed=base64.b64decode(raw.get("oprf", "")),
    )


def _create(path: Path) -> None:
    def fresh() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    content = json.dumps({"current": 1, "versions": {"1": fresh()}, "oprf": fresh()})
    temporary = path.with_name(f".{KEY_FILE}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    try:
        os.link(temporary, path)  # atomic: a reader sees no file or the whole file
    except FileExistsError:  # another process created it first; keep theirs
        pass
    finally:
        temporary.unlink()
