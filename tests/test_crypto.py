from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.core.crypto import DecryptionError, Keyring, KeyringError, generate_key_spec, key_id_of

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()


def test_first_key_encrypts_and_all_keys_decrypt():
    old = Keyring.parse(KEY_A)
    envelope = old.encrypt(b"hello", b"row:1")
    both = Keyring.parse(f"{KEY_B},{KEY_A}")
    assert key_id_of(envelope) == "a"
    assert both.decrypt(envelope, b"row:1") == b"hello"
    assert key_id_of(both.encrypt(b"hello", b"row:1")) == "b"


def test_envelope_carries_version_key_id_and_a_fresh_nonce():
    keyring = Keyring.parse(KEY_A)
    first, second = keyring.encrypt(b"same", b"ad"), keyring.encrypt(b"same", b"ad")
    assert first.startswith("v1.a.")
    assert first != second  # a random 96-bit nonce per encryption
    raw = base64.urlsafe_b64decode(first.split(".", 2)[2])
    assert len(raw) == 12 + len(b"same") + 16  # nonce + ciphertext + GCM tag


def test_ciphertext_bound_to_its_row_does_not_decrypt_on_another():
    keyring = Keyring.parse(KEY_A)
    envelope = keyring.encrypt(b"secret", b"clients.case.summary:1111")
    with pytest.raises(DecryptionError, match="authentication failed"):
        keyring.decrypt(envelope, b"clients.case.summary:2222")


def test_altered_ciphertext_is_rejected():
    keyring = Keyring.parse(KEY_A)
    envelope = keyring.encrypt(b"secret", b"ad")
    payload = bytearray(base64.urlsafe_b64decode(envelope.split(".", 2)[2]))
    payload[-1] ^= 1
    forged = "v1.a." + base64.urlsafe_b64encode(bytes(payload)).decode()
    with pytest.raises(DecryptionError):
        keyring.decrypt(forged, b"ad")


def test_unknown_key_id_is_named():
    envelope = Keyring.parse(KEY_B).encrypt(b"x", b"ad")
    with pytest.raises(DecryptionError, match="'b' is not in the keyring"):
        Keyring.parse(KEY_A).decrypt(envelope, b"ad")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no keys"),
        ("nocolon", "key_id:base64key"),
        ("a:not-base64!!", "not valid base64"),
        ("a:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
        (f"{KEY_A},{KEY_A}", "appears twice"),
        ("bad id:" + base64.b64encode(b"A" * 32).decode(), "may use only"),
    ],
)
def test_malformed_keyrings_are_refused_with_a_reason(spec, message):
    with pytest.raises(KeyringError, match=message):
        Keyring.parse(spec)


def test_generated_key_specs_parse():
    keyring = Keyring.parse(generate_key_spec("2026-11"))
    assert keyring.active_id == "2026-11"


@given(plaintext=st.binary(max_size=2048), row=st.text(max_size=64))
def test_round_trip_for_any_content(plaintext, row):
    keyring = Keyring.parse(KEY_A)
    assert keyring.decrypt(keyring.encrypt(plaintext, row.encode()), row.encode()) == plaintext
