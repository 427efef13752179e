"""The key ring: versioned secrets in a file of the data dir, created once with 0600 rights.

From each version's master secret, purpose-bound subkeys are derived:
- phone pseudonyms: HMAC-SHA256(e164), so a number can be found without being stored;
- the secret box that encrypts a member's own number for sending codes;
- code hashes, rate-limit keys, quota-token digests and any later keyed digest.
Old versions stay readable so that pseudonyms are re-keyed without downtime
(``mayknow keys rotate``): every process re-reads the file within ``RELOAD_SECONDS`` of a
change, look-ups try every version, and new data is keyed under the current one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from mayknow.identity import oprf

KEY_FILE = "keys.json"
RELOAD_SECONDS = 5.0


class KeyRingError(RuntimeError):
    pass


class Hmac:
    """HMAC-SHA256 under one key (RFC 2104), with the two hash states of the padded key
    computed once: a digest then costs two copies and two short updates, where
    ``hmac.digest`` sets OpenSSL up again on every call (0.8 µs a number against 4 µs
    here, which is most of matching a 1,000-number address book)."""

    BLOCK = 64

    def __init__(self, key: bytes) -> None:
        if len(key) > self.BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(self.BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def __call__(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@dataclass(frozen=True)
class KeySet:
    """One reading of the key file."""

    secrets_by_version: dict[int, bytes]
    current: int
    oprf_seed: bytes = b""
    _subkeys: dict[tuple[str, int], bytes] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _macs: dict[tuple[str, int], Hmac] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def subkey(self, label: str, version: int | None = None) -> bytes:
        version = self.current if version is None else version
        cached = self._subkeys.get((label, version))
        if cached is None:
            try:
                master = self.secrets_by_version[version]
            except KeyError:
                raise KeyRingError(f"key version {version} is not in the key ring") from None
            cached = hmac.digest(master, f"mayknow/{label}".encode(), "sha256")
            self._subkeys[(label, version)] = cached
        return cached

    def mac(self, label: str, version: int | None = None) -> Hmac:
        """HMAC-SHA256 under the subkey for ``label``, ready to use."""
        version = self.current if version is None else version
        cached = self._macs.get((label, version))
        if cached is None:
            cached = self._macs[(label, version)] = Hmac(self.subkey(label, version))
        return cached

    def oprf_key(self) -> bytes:
        cached = self._subkeys.get(("oprf-key", 0))
        if cached is None:
            if not self.oprf_seed:
                raise KeyRingError("the key file has no OPRF seed")
            cached = oprf.derive_key_pair(self.oprf_seed, b"mayknow contact discovery")[0]
            self._subkeys[("oprf-key", 0)] = cached
        return cached


class KeyRing:
    """The live key ring a process uses; it follows the key file when that changes."""

    def __init__(self, keys: KeySet, path: Path | None = None) -> None:
        self._keys, self._path = keys, path
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._mtime = path.stat().st_mtime_ns if path else 0

    @classmethod
    def of(
        cls, secrets_by_version: dict[int, bytes], current: int, oprf_seed: bytes = b""
    ) -> KeyRing:
        """A ring held in memory only (tests, tools)."""
        return cls(KeySet(dict(secrets_by_version), current, oprf_seed))

    def _now(self) -> KeySet:
        if self._path is None or time.monotonic() - self._checked < RELOAD_SECONDS:
            return self._keys
        with self._lock:
            self._checked = time.monotonic()
            mtime = self._path.stat().st_mtime_ns
            if mtime != self._mtime:
                self._keys, self._mtime = _read(self._path), mtime
        return self._keys

    def reload(self) -> None:
        """Re-read the key file now (the CLI does this after a rotation)."""
        if self._path is not None:
            with self._lock:
                self._keys, self._mtime = _read(self._path), self._path.stat().st_mtime_ns

    @property
    def current(self) -> int:
        return self._now().current

    @property
    def versions(self) -> list[int]:
        return sorted(self._now().secrets_by_version)

    def subkey(self, label: str, version: int | None = None) -> bytes:
        return self._now().subkey(label, version)

    def digest(self, label: str, data: bytes, version: int | None = None) -> bytes:
        """A keyed digest of ``data`` for one purpose (``label``)."""
        return self._now().mac(label, version)(data)

    def digests(self, label: str, data: bytes) -> list[bytes]:
        """The digest under every version, for checks made during a rotation."""
        return [self.digest(label, data, v) for v in self.versions]

    def phone_pseudonym(self, e164: str, version: int | None = None) -> bytes:
        return self.digest("phone-pseudonym", e164.encode(), version)

    def phone_pseudonyms(self, e164: str) -> dict[int, bytes]:
        """The pseudonym under every version, for look-ups during a rotation."""
        return {v: self.phone_pseudonym(e164, v) for v in self.versions}

    def pseudonyms_of(self, numbers: Iterable[str]) -> dict[bytes, str]:
        """Pseudonym -> number, for many numbers under every version: one reading of the
        ring and its subkeys for the whole batch (an address book), then one HMAC each."""
        keys = self._now()
        macs = [keys.mac("phone-pseudonym", v) for v in sorted(keys.secrets_by_version)]
        return {mac(e164.encode()): e164 for e164 in numbers for mac in macs}

    def encrypt(self, plaintext: bytes) -> bytes:
        keys = self._now()
        box = SecretBox(keys.subkey("secret-box"))
        return bytes([keys.current]) + bytes(box.encrypt(plaintext))

    def decrypt(self, ciphertext: bytes) -> bytes:
        version, body = ciphertext[0], ciphertext[1:]
        try:
            return bytes(SecretBox(self.subkey("secret-box", version)).decrypt(body))
        except (KeyRingError, CryptoError) as exc:
            raise KeyRingError("ciphertext cannot be opened with this key ring") from exc

    def oprf_key(self) -> bytes:
        """The OPRF secret of private discovery.

        It has its own seed, not a version of the ring: rotating it would change every output
        in every client's filter at once, so it is not part of ``mayknow keys rotate``.
        """
        return self._now().oprf_key()


def _read(path: Path) -> KeySet:
    raw = json.loads(path.read_text())
    return KeySet(
        secrets_by_version={int(v): base64.b64decode(k) for v, k in raw["versions"].items()},
        current=int(raw["current"]),
        oprf_seed=base64.b64decode(raw.get("oprf", "")),
    )


def _fresh() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _write(path: Path, content: dict[str, object], replace: bool) -> None:
    """Write the key file atomically with 0600 rights; a reader sees the old or the new file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(content))
    try:
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if another process created it first; keep theirs
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def load_or_create(data_dir: Path) -> KeyRing:
    """Read the key file, creating it (0600, in a 0700 dir) on first start."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / KEY_FILE
    if not path.exists():
        _write(path, {"current": 1, "versions": {"1": _fresh()}, "oprf": _fresh()}, False)
    return KeyRing(_read(path), path)


def add_version(data_dir: Path) -> int:
    """Add a fresh version to the key file and make it current; return its number."""
    path = data_dir / KEY_FILE
    raw = json.loads(path.read_text())
    version = max(int(v) for v in raw["versions"]) + 1
    raw["versions"][str(version)] = _fresh()
    raw["current"] = version
    _write(path, raw, True)
    return version


def retire_versions(data_dir: Path, keep: set[int]) -> list[int]:
    """Remove every version not in ``keep`` (the current one always stays); return them."""
    path = data_dir / KEY_FILE
    raw = json.loads(path.read_text())
    keep = keep | {int(raw["current"])}
    gone = sorted(int(v) for v in raw["versions"] if int(v) not in keep)
    raw["versions"] = {v: k for v, k in raw["versions"].items() if int(v) in keep}
    _write(path, raw, True)
    return gone
