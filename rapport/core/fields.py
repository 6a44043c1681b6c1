"""Encrypted model fields.

The column holds only the envelope from :mod:`rapport.core.crypto`. Decryption needs the row's
public id (it is part of the associated data), which ``from_db_value`` cannot see, so loading keeps
the envelope and a descriptor decrypts on first attribute access. That also means rows listed
without reading their clinical text never pay for decryption.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from rapport.core.crypto import DecryptionError
from rapport.core.keyring import active_keyring


class _Sealed(str):
    """A value as loaded from the database: still an envelope."""


class _Envelope(str):
    """A value sealed by ``pre_save`` and on its way to the database."""


def associated_data(instance: models.Model, field_name: str) -> bytes:
    meta = instance._meta
    public_id = getattr(instance, "public_id", None)
    if public_id is None:
        raise ValueError(f"{meta.label} needs a public_id before an encrypted field can be sealed")
    return f"{meta.label_lower}.{field_name}:{public_id}".encode()


class _EncryptedDescriptor(DeferredAttribute):
    """Loads deferred values like Django's own descriptor, then decrypts on first read and caches."""

    field: EncryptedTextField

    def __get__(self, instance: models.Model | None, cls: type | None = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, _Sealed):
            value = self.field.unseal(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: models.Model, value: Any) -> None:
        # Defining __set__ makes this a data descriptor, so __get__ runs even though the value
        # lives in the instance __dict__ (Django's DeferredAttribute alone would be shadowed).
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with AES-256-GCM. Cannot be filtered, ordered or indexed on."""

    description = "Encrypted text"
    descriptor_class = _EncryptedDescriptor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("unique") or kwargs.get("db_index") or kwargs.get("primary_key"):
            raise ValueError("Encrypted fields cannot be unique, indexed or primary keys")
        super().__init__(*args, **kwargs)

    # The plaintext <-> text conversion; the JSON variant overrides these two.
    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def empty_value(self) -> Any:
        return ""

    def seal(self, instance: models.Model, value: Any) -> str | None:
        if value is None:
            return None
        return _Envelope(active_keyring().encrypt(self.to_text(value).encode("utf-8"), associated_data(instance, self.attname)))

    def unseal(self, instance: models.Model, envelope: str) -> Any:
        try:
            plaintext = active_keyring().decrypt(envelope, associated_data(instance, self.attname))
        except DecryptionError as exc:
            raise DecryptionError(f"{instance._meta.label}.{self.attname} of {instance.pk}: {exc}") from None
        return self.from_text(plaintext.decode("utf-8"))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return self.empty_value() if value == "" else None
        return _Sealed(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        stored = model_instance.__dict__.get(self.attname)
        if isinstance(stored, _Sealed):
            # Never read since loading: keep the envelope as it is (rotate_keys re-seals on purpose).
            return stored
        value = getattr(model_instance, self.attname)
        if value is None:
            return None
        if value == self.empty_value():
            # Empty stays empty and unencrypted: it carries no content and keeps forms simple.
            return ""
        return self.seal(model_instance, value)

    def get_prep_value(self, value: Any) -> Any:
        # Only values sealed by pre_save (or loaded sealed) may reach the database. Paths that skip
        # pre_save, such as bulk_update() or QuerySet.update() with plaintext, are refused here
        # instead of silently writing clear text.
        if value is None or value == "":
            return value
        if isinstance(value, (_Envelope, _Sealed)):
            return str(value)
        raise TypeError(
            f"{self.model._meta.label}.{self.attname} is encrypted: save it with Model.save(), "
            "never with update(), bulk_update() or a lookup on its content"
        )

    def get_lookup(self, lookup_name: str) -> Any:
        # Comparing ciphertexts is meaningless (random nonces); only "is it set / empty" can be
        # asked, and get_prep_value refuses an exact lookup on anything but "".
        if lookup_name in {"isnull", "exact"}:
            return super().get_lookup(lookup_name)
        return None


class EncryptedJSONField(EncryptedTextField):
    """A JSON document encrypted at rest as one envelope."""

    description = "Encrypted JSON"

    def to_text(self, value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    def from_text(self, text: str) -> Any:
        return json.loads(text)

    def empty_value(self) -> Any:
        return None

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return None
        return _Sealed(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        stored = model_instance.__dict__.get(self.attname)
        if isinstance(stored, _Sealed):
            return stored
        value = getattr(model_instance, self.attname)
        if value is None:
            return None
        return self.seal(model_instance, value)


class EncryptedBinaryField(EncryptedTextField):
    """Bytes (a file) encrypted at rest as one envelope: the whole value is read and written at once.

    For small files kept beside their row, such as a client's data export. The envelope is base64
    text, about a third larger than the bytes; a row holding one is best loaded with ``defer()``
    wherever the bytes are not needed.
    """

    description = "Encrypted bytes"

    def seal(self, instance: models.Model, value: Any) -> str | None:
        if value is None:
            return None
        return _Envelope(active_keyring().encrypt(bytes(value), associated_data(instance, self.attname)))

    def unseal(self, instance: models.Model, envelope: str) -> Any:
        try:
            return active_keyring().decrypt(envelope, associated_data(instance, self.attname))
        except DecryptionError as exc:
            raise DecryptionError(f"{instance._meta.label}.{self.attname} of {instance.pk}: {exc}") from None

    def empty_value(self) -> Any:
        return b""

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        # A blank field's default is the text default "": empty either way, stored as "".
        if not isinstance(value, _Sealed) and (value == "" or value == b""):
            return ""
        return super().pre_save(model_instance, add)
