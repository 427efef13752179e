"""RFC 9497 OPRF(ristretto255, SHA-512), base mode: the RFC vectors and the protocol's promises."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from mayknow.identity import oprf

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "oprf_vectors.json").read_text())
RFC_CASES = VECTORS["vectors"]
RFC_SK = bytes.fromhex(VECTORS["skSm"])
XMD = VECTORS["expand_message_xmd_sha512"]

GENERATOR = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
BAD_ELEMENTS = {
    "31 bytes": GENERATOR[:31],
    "33 bytes": GENERATOR + b"\0",
    "all 0xff": b"\xff" * 32,
    "field element p, non-canonical": bytes.fromhex("ed" + "ff" * 30 + "7f"),
    "generator with bit 255 set (libsodium 1.0.18 ignores it)": GENERATOR[:31]
    + bytes([GENERATOR[31] | 0x80]),
    "negative field element": b"\x01" + bytes(31),
    "identity": bytes(32),
} | {
    f"RFC 9496 A.2 #{number}, {vector['reason']}": bytes.fromhex(vector["element"])
    for number, vector in enumerate(VECTORS["invalid_elements"]["vectors"], 1)
}


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def case_id(case: dict[str, str]) -> str:
    return case["name"]


def test_vector_file_uses_the_suite_context_string() -> None:
    assert h(VECTORS["contextString"]) == b"OPRFV1-\x00-ristretto255-SHA512"


def test_derive_key_pair_reproduces_the_rfc_secret_key() -> None:
    sk, pk = oprf.derive_key_pair(h(VECTORS["Seed"]), h(VECTORS["KeyInfo"]))
    assert sk == RFC_SK
    assert pk == oprf.public_key(RFC_SK)


@pytest.mark.parametrize("case", RFC_CASES, ids=case_id)
def test_blind_with_fixed_blind_reproduces_the_rfc_blinded_element(case: dict[str, str]) -> None:
    blind, blinded = oprf.blind(h(case["Input"]), h(case["Blind"]))
    assert blind == h(case["Blind"])
    assert blinded == h(case["BlindedElement"])


@pytest.mark.parametrize("case", RFC_CASES, ids=case_id)
def test_blind_evaluate_reproduces_the_rfc_evaluation_element(case: dict[str, str]) -> None:
    assert oprf.blind_evaluate(RFC_SK, h(case["BlindedElement"])) == h(case["EvaluationElement"])


@pytest.mark.parametrize("case", RFC_CASES, ids=case_id)
def test_finalize_reproduces_the_rfc_output(case: dict[str, str]) -> None:
    output = oprf.finalize(h(case["Input"]), h(case["Blind"]), h(case["EvaluationElement"]))
    assert output == h(case["Output"])


@pytest.mark.parametrize("case", RFC_CASES, ids=case_id)
def test_server_evaluate_reproduces_the_rfc_output(case: dict[str, str]) -> None:
    assert oprf.evaluate(RFC_SK, h(case["Input"])) == h(case["Output"])


def test_batch_evaluation_reproduces_the_rfc_evaluation_elements() -> None:
    blinded = [h(case["BlindedElement"]) for case in RFC_CASES]
    expected = [h(case["EvaluationElement"]) for case in RFC_CASES]
    assert oprf.blind_evaluate_many(RFC_SK, blinded) == expected


@pytest.mark.parametrize(
    "vector", XMD["vectors"], ids=lambda v: f"{v['msg']!r}-{v['len_in_bytes']}"
)
def test_expand_message_xmd_matches_rfc_9380(vector: dict[str, Any]) -> None:
    out = oprf.expand_message_xmd(
        vector["msg"].encode(), XMD["DST"].encode(), vector["len_in_bytes"]
    )
    assert out == h(vector["uniform_bytes"])


def test_public_key_of_one_is_the_ristretto255_generator() -> None:
    assert oprf.public_key((1).to_bytes(32, "little")) == GENERATOR


def test_round_trip_equals_server_evaluation_for_random_inputs() -> None:
    sk = oprf.generate_key()
    for _ in range(20):
        number = f"+86138{secrets.randbelow(10**8):08d}".encode()
        blind, blinded = oprf.blind(number)
        output = oprf.finalize(number, blind, oprf.blind_evaluate(sk, blinded))
        assert len(output) == 64
        assert output == oprf.evaluate(sk, number)


def test_different_keys_give_different_outputs() -> None:
    number = b"+8613812345678"
    assert oprf.evaluate(oprf.generate_key(), number) != oprf.evaluate(oprf.generate_key(), number)


def test_different_inputs_give_different_outputs() -> None:
    sk = oprf.generate_key()
    assert oprf.evaluate(sk, b"+8613812345678") != oprf.evaluate(sk, b"+8613812345679")


def test_blinding_hides_the_input() -> None:
    number = b"+8613812345678"
    (blind_a, blinded_a), (blind_b, blinded_b) = oprf.blind(number), oprf.blind(number)
    assert blind_a != blind_b
    assert blinded_a != blinded_b
    sk = oprf.generate_key()
    outputs = {
        oprf.finalize(number, b, oprf.blind_evaluate(sk, e))
        for b, e in [(blind_a, blinded_a), (blind_b, blinded_b)]
    }
    assert outputs == {oprf.evaluate(sk, number)}


def test_generate_key_gives_distinct_usable_scalars() -> None:
    keys = {oprf.generate_key() for _ in range(10)}
    assert len(keys) == 10
    assert all(len(oprf.public_key(key)) == 32 for key in keys)


@pytest.mark.parametrize("element", BAD_ELEMENTS.values(), ids=BAD_ELEMENTS.keys())
def test_blind_evaluate_rejects_invalid_encodings(element: bytes) -> None:
    with pytest.raises(oprf.InvalidElementError) as caught:
        oprf.blind_evaluate(RFC_SK, element)
    assert caught.value.index is None


@pytest.mark.parametrize("element", BAD_ELEMENTS.values(), ids=BAD_ELEMENTS.keys())
def test_batch_evaluation_reports_the_index_of_the_first_bad_element(element: bytes) -> None:
    good = h(RFC_CASES[0]["BlindedElement"])
    with pytest.raises(oprf.InvalidElementError) as caught:
        oprf.blind_evaluate_many(RFC_SK, [good, good, element, good, bytes(32)])
    assert caught.value.index == 2
    assert "index 2" in str(caught.value)


@pytest.mark.parametrize("element", BAD_ELEMENTS.values(), ids=BAD_ELEMENTS.keys())
def test_finalize_rejects_invalid_evaluated_elements(element: bytes) -> None:
    case = RFC_CASES[0]
    with pytest.raises(oprf.InvalidElementError):
        oprf.finalize(h(case["Input"]), h(case["Blind"]), element)


def test_input_hashing_to_identity_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oprf, "_hash_to_group", lambda _msg: bytes(32))
    with pytest.raises(oprf.InvalidInputError):
        oprf.blind(b"+8613812345678")
    with pytest.raises(oprf.InvalidInputError):
        oprf.evaluate(RFC_SK, b"+8613812345678")


def test_input_longer_than_65535_bytes_is_rejected() -> None:
    with pytest.raises(oprf.InvalidInputError):
        oprf.blind(bytes(65536))


@pytest.mark.parametrize(
    "scalar",
    [
        bytes(32),
        (2**252 + 27742317777372353535851937790883648493).to_bytes(32, "little"),
        b"\xff" * 32,
        RFC_SK[:31],
    ],
    ids=["zero", "group order", "all 0xff", "31 bytes"],
)
def test_non_canonical_or_zero_scalars_are_rejected(scalar: bytes) -> None:
    with pytest.raises(oprf.OprfError):
        oprf.blind_evaluate(scalar, h(RFC_CASES[0]["BlindedElement"]))
    with pytest.raises(oprf.OprfError):
        oprf.blind(b"+8613812345678", scalar)


def test_errors_are_value_errors() -> None:
    assert issubclass(oprf.InvalidElementError, oprf.OprfError)
    assert issubclass(oprf.InvalidInputError, oprf.OprfError)
    assert issubclass(oprf.OprfError, ValueError)
    assert oprf.InvalidElementError(3).index == 3
