from __future__ import annotations

import base64
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from rapport.audit.models import AuditEvent
from rapport.clients.models import Case
from rapport.clients.services import case_update_summary
from rapport.core.crypto import DecryptionError, key_id_of
from rapport.core.keyrotation import rotate_all

PLAINTEXT = "Fictional marker text: blue heron over the harbour"
NEW_KEY = "k2026:" + base64.b64encode(b"N" * 32).decode()


def _raw_summary(case: Case) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT summary FROM clients_case WHERE id = %s", [case.pk])
        return cursor.fetchone()[0]


def test_the_column_holds_an_envelope_not_the_text(world):
    case = case_update_summary(actor=world.user("therapist_a"), case=world.individual_case, summary=PLAINTEXT)
    raw = _raw_summary(case)
    assert raw.startswith("v1.dev1.")
    assert PLAINTEXT not in raw
    assert Case.objects.get(pk=case.pk).summary == PLAINTEXT


@pytest.mark.django_db(transaction=True)
def test_the_database_files_hold_no_plaintext():
    from tests.personas import build_world

    world = build_world()
    case_update_summary(actor=world.user("therapist_a"), case=world.individual_case, summary=PLAINTEXT)
    needle = PLAINTEXT.encode()
    if connection.vendor == "sqlite":
        database = Path(connection.settings_dict["NAME"])
        files = [p for p in (database, Path(f"{database}-wal")) if p.exists()]
        assert files
        for path in files:
            assert needle not in path.read_bytes(), f"plaintext found in {path}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM clients_case WHERE summary LIKE %s", [f"%{PLAINTEXT}%"])
            assert cursor.fetchone()[0] == 0
            cursor.execute("SELECT count(*) FROM audit_auditevent WHERE detail::text LIKE %s", ["%heron%"])
            assert cursor.fetchone()[0] == 0


def test_a_ciphertext_copied_to_another_row_does_not_decrypt(world):
    source = case_update_summary(actor=world.user("therapist_a"), case=world.individual_case, summary=PLAINTEXT)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clients_case SET summary = %s WHERE id = %s", [_raw_summary(source), world.couple_case.pk])
    with pytest.raises(DecryptionError, match="authentication failed"):
        _ = Case.objects.get(pk=world.couple_case.pk).summary


def test_paths_that_skip_encryption_are_refused(world):
    case = world.individual_case
    with pytest.raises(TypeError, match="is encrypted"), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(summary="clear text")
    case.summary = "clear text"
    with pytest.raises(TypeError, match="is encrypted"), transaction.atomic():
        Case.objects.bulk_update([case], ["summary"])
    assert "clear text" not in _raw_summary(case)


def test_content_lookups_are_not_possible(world):
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError):
        list(Case.objects.filter(summary__icontains="x"))
    assert Case.objects.filter(summary__isnull=False).exists()


def test_loading_without_reading_does_not_decrypt_or_reseal(world):
    case = Case.objects.get(pk=world.individual_case.pk)
    before = _raw_summary(case)
    case.status = "closed"
    case.save()
    assert _raw_summary(case) == before


def test_rotate_keys_reencrypts_every_row_under_the_new_key(world):
    for case in Case.objects.all():
        case_update_summary(actor=world.user("therapist_a"), case=case, summary=f"{PLAINTEXT} {case.pk}")
    from django.conf import settings

    with override_settings(RAPPORT_ENCRYPTION_KEYS=f"{NEW_KEY},{settings.RAPPORT_ENCRYPTION_KEYS}"):
        call_command("rotate_keys", "--batch-size", "1", stdout=_Sink())
        for case in Case.objects.all():
            assert key_id_of(_raw_summary(case)) == "k2026"
            assert case.summary == f"{PLAINTEXT} {case.pk}"
        phases = [e.detail["phase"] for e in AuditEvent.objects.filter(action="rotate_keys").order_by("id")]
        assert phases == ["started", "finished"]
        event = AuditEvent.objects.filter(action="rotate_keys").order_by("id").last()
        assert event.detail["reencrypted"] == Case.objects.count()  # type: ignore[union-attr]
    # The old key alone can no longer read the rows: they really moved.
    with pytest.raises(DecryptionError):
        _ = Case.objects.first().summary  # type: ignore[union-attr]


def test_an_interrupted_rotation_resumes_where_it_stopped(world):
    from django.conf import settings

    for case in Case.objects.all():
        case_update_summary(actor=world.user("therapist_a"), case=case, summary=f"{PLAINTEXT} {case.pk}")
    total = Case.objects.exclude(summary="").count()
    assert total == 3
    with override_settings(RAPPORT_ENCRYPTION_KEYS=f"{NEW_KEY},{settings.RAPPORT_ENCRYPTION_KEYS}"):

        def stop_after_first_batch(label: str, last_pk: int) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            rotate_all(batch_size=1, on_batch=stop_after_first_batch)
        rotated = [c for c in Case.objects.all() if c.summary and key_id_of(_raw_summary(c)) == "k2026"]
        assert 0 < len(rotated) < total
        report = rotate_all(batch_size=1)
        assert report.reencrypted == total - len(rotated)
        assert all(key_id_of(_raw_summary(c)) == "k2026" for c in Case.objects.all() if c.summary)


def test_rotation_also_reseals_mfa_secrets(world):
    from allauth.mfa.models import Authenticator
    from django.conf import settings

    with override_settings(RAPPORT_ENCRYPTION_KEYS=f"{NEW_KEY},{settings.RAPPORT_ENCRYPTION_KEYS}"):
        rotate_all()
        for authenticator in Authenticator.objects.filter(type="totp"):
            assert key_id_of(authenticator.data["secret"]) == "k2026"


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def test_a_row_no_key_opens_is_reported_and_the_rest_still_rotate(world):
    for case in Case.objects.all():
        case_update_summary(actor=world.user("therapist_a"), case=case, summary=f"{PLAINTEXT} {case.pk}")
    lost_key = "lost:" + base64.b64encode(b"L" * 32).decode()
    with override_settings(RAPPORT_ENCRYPTION_KEYS=lost_key):
        case_update_summary(actor=world.user("therapist_a"), case=world.couple_case, summary="sealed with a key that is then lost")
    from django.conf import settings

    err = StringIO()
    with override_settings(RAPPORT_ENCRYPTION_KEYS=f"{NEW_KEY},{settings.RAPPORT_ENCRYPTION_KEYS}"):
        with pytest.raises(CommandError, match="1 row"):
            call_command("rotate_keys", stdout=_Sink(), stderr=err)
        assert f"clients.Case #{world.couple_case.pk}" in err.getvalue()
        assert key_id_of(_raw_summary(world.couple_case)) == "lost"
        assert key_id_of(_raw_summary(world.individual_case)) == "k2026"
