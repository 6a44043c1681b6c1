"""Re-encrypt every encrypted field under the active key, in short batches, resumably.

Each batch is its own short transaction that locks its rows (SELECT ... FOR UPDATE on PostgreSQL;
SQLite's IMMEDIATE transaction holds the write lock), so the application keeps serving between
batches and a concurrent edit is never overwritten with stale text. Rows already under the active
key are skipped, which is what makes an interrupted run resumable: run it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction

from rapport.core.crypto import DecryptionError, key_id_of
from rapport.core.fields import EncryptedTextField
from rapport.core.keyring import active_keyring


@dataclass
class RotationReport:
    active_key: str
    scanned: int = 0
    reencrypted: int = 0
    secrets_resealed: int = 0
    per_model: dict[str, int] = field(default_factory=dict)
    # "label #pk" of rows that no key in the keyring opens; they are left untouched and reported.
    undecryptable: list[str] = field(default_factory=list)


# Secrets sealed outside EncryptedTextField (e.g. MFA secrets in a third-party table) register a
# function here from their app's ready(); each takes the active key id and returns how many rows
# it re-sealed and the rows that no key opens.
extra_rotators: dict[str, Callable[[str], tuple[int, list[str]]]] = {}


def encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


def _needs_rotation(raw: str | None, active: str) -> bool:
    return bool(raw) and key_id_of(str(raw)) != active


def rotate_all(*, batch_size: int = 500, on_batch: Callable[[str, int], None] | None = None) -> RotationReport:
    active = active_keyring().active_id
    report = RotationReport(active_key=active)
    for model, fields in encrypted_fields():
        label = model._meta.label
        names = [f.attname for f in fields]
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = (
                    model._default_manager.filter(pk__gt=last_pk).order_by("pk").select_for_update().values_list("pk", *names)[:batch_size]
                )
                batch = list(rows)
                if not batch:
                    break
                last_pk = batch[-1][0]
                stale = [row[0] for row in batch if any(_needs_rotation(value, active) for value in row[1:])]
                report.scanned += len(batch)
                for instance in model._default_manager.filter(pk__in=stale).select_for_update():
                    try:
                        # Reading each field decrypts it with its old key; save() seals it with the active one.
                        plaintexts = {name: getattr(instance, name) for name in names}
                    except DecryptionError:
                        report.undecryptable.append(f"{label} #{instance.pk}")
                        continue
                    for name, value in plaintexts.items():
                        setattr(instance, name, value)
                    instance.save(update_fields=names)
                    report.reencrypted += 1
                    report.per_model[label] = report.per_model.get(label, 0) + 1
            if on_batch is not None:
                on_batch(label, last_pk)
    for label, rotator in extra_rotators.items():
        count, undecryptable = rotator(active)
        report.secrets_resealed += count
        report.undecryptable.extend(undecryptable)
        report.per_model[label] = count
    return report
