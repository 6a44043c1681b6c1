"""AES-256-GCM envelope encryption with a keyring (RELIABILITY.md A5, ASVS 5.0 11.2.2 and 11.3.2).

Envelope, as stored text: ``v1.<key_id>.<base64url(nonce ‖ ciphertext ‖ tag)>``.
The nonce is 96 random bits per encryption. The associated data binds a ciphertext to its row and
field (``app_label.model.field:public_id``), so a ciphertext copied onto another row fails to
decrypt instead of showing the wrong person's text.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class KeyringError(ValueError):
    """The configured keyring is malformed."""


class DecryptionError(ValueError):
    """A stored value could not be decrypted (unknown key, wrong row, or tampered bytes)."""


@dataclass(frozen=True)
class Keyring:
    active_id: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """Parse ``"id:base64key,id:base64key"``; the first key encrypts, all of them decrypt."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for number, entry in enumerate(part.strip() for part in spec.split(",") if part.strip()):
            key_id, sep, encoded = entry.partition(":")
            if not sep:
                raise KeyringError(f"entry {number + 1} must look like key_id:base64key")
            if not _KEY_ID.match(key_id):
                raise KeyringError(f"entry {number + 1}: key id {key_id!r} may use only letters, digits, '-' and '_' (max 32)")
            if key_id in keys:
                raise KeyringError(f"key id {key_id!r} appears twice")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise KeyringError(f"key {key_id!r} is not valid base64") from None
            if len(raw) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} must be {KEY_BYTES} bytes (AES-256), got {len(raw)}")
            keys[key_id] = raw
            order.append(key_id)
        if not order:
            raise KeyringError("no keys configured")
        return cls(active_id=order[0], keys=keys)

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(nonce, plaintext, associated_data)
        return f"{VERSION}.{self.active_id}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, envelope: str, associated_data: bytes) -> bytes:
        version, key_id, payload = split_envelope(envelope)
        if version != VERSION:
            raise DecryptionError(f"unsupported envelope version {version!r}")
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(f"key {key_id!r} is not in the keyring")
        try:
            raw = base64.urlsafe_b64decode(payload.encode("ascii"))
        except (binascii.Error, ValueError):
            raise DecryptionError("payload is not valid base64") from None
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
        except InvalidTag:
            raise DecryptionError("authentication failed: wrong key, wrong row, or altered ciphertext") from None


def split_envelope(envelope: str) -> tuple[str, str, str]:
    parts = envelope.split(".", 2)
    if len(parts) != 3:
        raise DecryptionError("value is not an encryption envelope")
    return parts[0], parts[1], parts[2]


def key_id_of(envelope: str) -> str:
    return split_envelope(envelope)[1]


def generate_key_spec(key_id: str) -> str:
    if not _KEY_ID.match(key_id):
        raise KeyringError(f"key id {key_id!r} may use only letters, digits, '-' and '_' (max 32)")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode('ascii')}"
