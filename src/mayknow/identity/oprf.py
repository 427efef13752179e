"""RFC 9497 OPRF, base mode (0x00), ciphersuite ristretto255-SHA512, for contact discovery.

The client hashes a phone number x to a group element H(x) and sends only r*H(x) for a random
blind r (``blind``), so the server learns nothing about x. The server multiplies by its secret key
k (``blind_evaluate``); the client removes r and hashes x with k*H(x) into a 64-byte output
(``finalize``). The server computes the same outputs for all discoverable accounts on its own
(``evaluate``) and publishes them as a filter, which the client checks its outputs against;
without the server's key, nobody can compute an output for a number of their choice.
Group arithmetic is libsodium's ristretto255 (RFC 9496); HashToGroup/HashToScalar use
expand_message_xmd with SHA-512 (RFC 9380 §5.3.1). Test vectors: RFC 9497 Appendix A.1.1.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
from collections.abc import Callable, Sequence

_CONTEXT = b"OPRFV1-\x00-ristretto255-SHA512"
_DST_HASH_TO_GROUP = b"HashToGroup-" + _CONTEXT
_DST_HASH_TO_SCALAR = b"HashToScalar-" + _CONTEXT
_DST_DERIVE_KEY_PAIR = b"DeriveKeyPair" + _CONTEXT
_ORDER = 2**252 + 27742317777372353535851937790883648493  # L, the order of ristretto255
_ZERO = bytes(32)


class OprfError(ValueError):
    """A protocol input was rejected."""


class InvalidElementError(OprfError):
    """Not a canonical, valid, non-identity 32-byte ristretto255 encoding."""

    def __init__(self, index: int | None = None) -> None:
        self.index = index
        where = "" if index is None else f" at index {index}"
        super().__init__(f"invalid ristretto255 element{where}")


class InvalidInputError(OprfError):
    """The input is too long for the protocol, or hashes to the identity element."""


def _load_libsodium() -> ctypes.CDLL:
    # PyNaCl (up to 1.6.2) binds none of libsodium's ristretto255 functions (pyca/pynacl#646),
    # and its bundled copy does not export them, so the system libsodium (>= 1.0.18) is used.
    names = (ctypes.util.find_library("sodium"), "libsodium.so.26", "libsodium.so.23")
    for name in filter(None, names):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "crypto_scalarmult_ristretto255") and lib.sodium_init() >= 0:
            return lib
    raise ImportError("mayknow.identity.oprf needs libsodium >= 1.0.18 (ristretto255)")


def _bind(lib: ctypes.CDLL, name: str, nargs: int, void: bool = False) -> Callable[..., int]:
    function = lib[name]
    function.argtypes = [ctypes.c_char_p] * nargs
    function.restype = None if void else ctypes.c_int
    return function


_sodium = _load_libsodium()
_from_hash = _bind(_sodium, "crypto_core_ristretto255_from_hash", 2)
_scalar_reduce = _bind(_sodium, "crypto_core_ristretto255_scalar_reduce", 2, void=True)
_scalar_random = _bind(_sodium, "crypto_core_ristretto255_scalar_random", 1, void=True)
_scalar_invert = _bind(_sodium, "crypto_core_ristretto255_scalar_invert", 2)
_scalarmult = _bind(_sodium, "crypto_scalarmult_ristretto255", 3)
_scalarmult_base = _bind(_sodium, "crypto_scalarmult_ristretto255_base", 2)


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 expand_message_xmd with SHA-512 (b_in_bytes 64, s_in_bytes 128)."""
    ell = -(-length // 64)
    if not 0 < ell <= 255 or length > 0xFFFF or len(dst) > 255:
        raise OprfError("expand_message_xmd: length or DST out of range")
    dst_prime = dst + bytes([len(dst)])
    b0 = hashlib.sha512(bytes(128) + msg + length.to_bytes(2, "big") + b"\0" + dst_prime).digest()
    block = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    blocks = [block]
    for i in range(2, ell + 1):
        mixed = bytes(a ^ b for a, b in zip(b0, block, strict=True))
        block = hashlib.sha512(mixed + bytes([i]) + dst_prime).digest()
        blocks.append(block)
    return b"".join(blocks)[:length]


def _hash_to_group(msg: bytes) -> bytes:
    out = ctypes.create_string_buffer(32)
    _from_hash(out, expand_message_xmd(msg, _DST_HASH_TO_GROUP, 64))
    return out.raw


def _hash_to_scalar(msg: bytes, dst: bytes = _DST_HASH_TO_SCALAR) -> bytes:
    out = ctypes.create_string_buffer(32)
    _scalar_reduce(out, expand_message_xmd(msg, dst, 64))
    return out.raw


def _mul(scalar: bytes, element: bytes) -> bytes | None:
    """scalar*element, or None if ``element`` is not a canonical, valid, non-identity encoding.

    libsodium rejects invalid and non-canonical encodings, except that 1.0.18 ignores bit 255 (so
    that bit is checked here, RFC 9496 §4.3.1), and fails when the product is the identity;
    with a scalar in [1, L) and a prime-order group, that happens exactly for the identity.
    """
    if len(element) != 32 or element[31] & 0x80:
        return None
    out = ctypes.create_string_buffer(32)
    return None if _scalarmult(out, scalar, element) != 0 else out.raw


def _check_scalar(scalar: bytes, what: str) -> None:
    if len(scalar) != 32 or not 0 < int.from_bytes(scalar, "little") < _ORDER:
        raise OprfError(f"{what} must be a canonical, non-zero 32-byte scalar")


def _check_input(data: bytes) -> None:
    if len(data) > 0xFFFF:
        raise InvalidInputError("input longer than 65535 bytes")


def _finalize_hash(data: bytes, unblinded: bytes) -> bytes:
    return hashlib.sha512(
        len(data).to_bytes(2, "big") + data + (32).to_bytes(2, "big") + unblinded + b"Finalize"
    ).digest()


def derive_key_pair(seed: bytes, info: bytes) -> tuple[bytes, bytes]:
    """RFC 9497 §3.2.1 DeriveKeyPair: (skS, pkS) from a 32-byte seed and public key info."""
    if len(seed) != 32 or len(info) > 0xFFFF:
        raise OprfError("seed must be 32 bytes and info at most 65535 bytes")
    derive_input = seed + len(info).to_bytes(2, "big") + info
    for counter in range(256):
        sk = _hash_to_scalar(derive_input + bytes([counter]), _DST_DERIVE_KEY_PAIR)
        if sk != _ZERO:
            return sk, public_key(sk)
    raise OprfError("DeriveKeyPairError")  # pragma: no cover - probability about 2**-2000


def generate_key() -> bytes:
    """A uniformly random non-zero secret scalar."""
    out = ctypes.create_string_buffer(32)
    _scalar_random(out)
    return out.raw


def public_key(sk: bytes) -> bytes:
    """pkS = skS*G (used by the verifiable modes only)."""
    _check_scalar(sk, "secret key")
    out = ctypes.create_string_buffer(32)
    _scalarmult_base(out, sk)
    return out.raw


def blind(input: bytes, blind: bytes | None = None) -> tuple[bytes, bytes]:
    """Client: (blind, blindedElement). Pass ``blind`` only to reproduce test vectors."""
    _check_input(input)
    scalar = generate_key() if blind is None else blind
    _check_scalar(scalar, "blind")
    blinded = _mul(scalar, _hash_to_group(input))
    if blinded is None:
        raise InvalidInputError("input hashes to the identity element")
    return scalar, blinded


def finalize(input: bytes, blind: bytes, evaluated_element: bytes) -> bytes:
    """Client: unblind the server's answer and hash it with the input into 64 bytes."""
    _check_input(input)
    _check_scalar(blind, "blind")
    inverse = ctypes.create_string_buffer(32)
    _scalar_invert(inverse, blind)
    unblinded = _mul(inverse.raw, evaluated_element)
    if unblinded is None:
        raise InvalidElementError()
    return _finalize_hash(input, unblinded)


def blind_evaluate(sk: bytes, blinded_element: bytes) -> bytes:
    """Server: evaluatedElement = skS*blindedElement; rejects invalid or identity encodings."""
    _check_scalar(sk, "secret key")
    evaluated = _mul(sk, blinded_element)
    if evaluated is None:
        raise InvalidElementError()
    return evaluated


def blind_evaluate_many(sk: bytes, elements: Sequence[bytes]) -> list[bytes]:
    """Server: ``blind_evaluate`` for a batch; the error carries the first bad ``index``."""
    _check_scalar(sk, "secret key")
    evaluated = []
    for index, element in enumerate(elements):
        result = _mul(sk, element)
        if result is None:
            raise InvalidElementError(index)
        evaluated.append(result)
    return evaluated


def evaluate(sk: bytes, input: bytes) -> bytes:
    """Server: the OPRF output for ``input`` without blinding (RFC 9497 §3.3.1 Evaluate)."""
    _check_scalar(sk, "secret key")
    _check_input(input)
    unblinded = _mul(sk, _hash_to_group(input))
    if unblinded is None:
        raise InvalidInputError("input hashes to the identity element")
    return _finalize_hash(input, unblinded)
