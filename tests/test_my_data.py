"""The client's "My data" export: the registry, the request, the background build, the link and its expiry."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import Action, AuditEvent
from rapport.clients.intake import intake_save
from rapport.consents.services import consent_defaults_create, consent_sign
from rapport.core import exports as export_registry
from rapport.core.exports import ExportSection
from rapport.portal.export_builder import build_export
from rapport.portal.models import DataExport, ExportStatus
from rapport.portal.services import FAILED_MESSAGE, IN_FLIGHT_MESSAGE, LINK_LIFETIME, STUCK_AFTER, export_request, exports_sweep
from rapport.practice.models import ServiceKind
from tests.sessions import book

MY_DATA = reverse("portal:my_data")


def _download_url(export: DataExport) -> str:
    return reverse("portal:my_data_download", kwargs={"token": export.token})


def _sign(world, client, *, declined=()):
    version = consent_defaults_create(actor=None, practice=client.practice)
    choices = {item.key: item.key not in declined for item in version.items.all()}
    return consent_sign(actor=client.user, client=client, version=version, typed_name=client.full_name, choices=choices)


def _export_for(world, persona: str, capture) -> DataExport:
    with capture(execute=True):
        export = export_request(actor=world.user(persona))
    return DataExport.objects.get(pk=export.pk)


def _unzip(content: bytes) -> tuple[dict, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return json.loads(archive.read("export.json")), archive.read("export.pdf")


# --- The registry ----------------------------------------------------------------------------------------


def test_every_app_with_client_data_registers_its_section_in_order():
    keys = [entry.provider.__name__ for entry in export_registry.registered()]
    assert keys == ["profile_section", "intake_section", "consents_section", "appointments_section", "record_access_section"]
    assert all(entry.title and entry.summary for entry in export_registry.registered())


def test_registering_twice_keeps_one_entry():
    entry = export_registry.registered()[0]
    export_registry.register(entry.provider, title="Again", summary="again")
    assert [e.provider for e in export_registry.registered()].count(entry.provider) == 1


def test_the_builder_reports_progress_after_each_section_and_each_file(world):
    seen: list[int] = []
    built = build_export(world.client, now=timezone.now(), on_progress=seen.append)
    assert seen == sorted(seen)
    assert len(seen) == len(export_registry.registered()) + 2
    assert seen[-1] == 95
    assert built.sections == ["profile", "intake", "consents", "appointments", "record_access"]


# --- Requesting and building ------------------------------------------------------------------------------


def test_a_request_is_built_in_the_background_into_an_encrypted_zip(world, django_capture_on_commit_callbacks):
    signature = _sign(world, world.client, declined=("supervision",))
    book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)

    export = _export_for(world, "client", django_capture_on_commit_callbacks)

    assert export.status == ExportStatus.READY
    assert export.progress == 100
    assert export.expires_at == export.finished_at + LINK_LIFETIME
    data, pdf = _unzip(export.file)
    assert pdf.startswith(b"%PDF")
    assert data["format"] == "rapport-data-export"
    assert data["sections"]["profile"]["data"]["email"] == "cora@mail.example"
    signed = data["sections"]["consents"]["data"]["signatures"]
    assert [s["id"] for s in signed] == [str(signature.public_id)]
    assert signed[0]["content_hash"] == signature.content_hash
    assert {i["key"]: i["granted"] for i in signed[0]["items"]}["supervision"] is False
    assert len(data["sections"]["appointments"]["data"]) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT file FROM rapport_portal_dataexport WHERE id = %s", [export.pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("v1.")
    assert "export.json" not in raw


def test_the_request_the_build_and_nothing_else_are_audited_against_the_client(world, django_capture_on_commit_callbacks):
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    export = _export_for(world, "client", django_capture_on_commit_callbacks)
    events = list(AuditEvent.objects.filter(id__gt=mark, object_type="portal.dataexport").order_by("id"))
    assert [(e.action, e.actor_id, e.detail.get("status")) for e in events] == [
        (Action.CREATE, world.user("client").pk, None),
        (Action.UPDATE, None, "ready"),
    ]
    assert {str(e.client_id) for e in events} == {str(world.client.public_id)}
    assert all(str(e.object_id) == str(export.public_id) for e in events)


def test_the_therapists_summary_is_never_in_the_clients_export(world, django_capture_on_commit_callbacks):
    export = _export_for(world, "client", django_capture_on_commit_callbacks)
    data, _ = _unzip(export.file)
    assert "Fictional summary for Cora." not in json.dumps(data)
    assert "summary" not in data["sections"]["profile"]["data"]["cases"][0]


def test_a_partners_own_items_never_reach_the_other_partners_export(world, django_capture_on_commit_callbacks):
    mine = _sign(world, world.partner_a, declined=("anonymised_reports",))
    theirs = _sign(world, world.partner_b, declined=("supervision", "text_messages"))
    intake_save(actor=world.user("partner_a"), client=world.partner_a, what_brings_you="Fictional: Pat's own reasons.")
    intake_save(
        actor=world.user("partner_b"), client=world.partner_b, what_brings_you="Fictional: Quinn's own reasons.", phone="+1 555 0199"
    )
    joint = book(world, world.couple_case, ServiceKind.COUPLE, hour=13)

    export = _export_for(world, "partner_a", django_capture_on_commit_callbacks)

    data, _ = _unzip(export.file)
    text = json.dumps(data)
    assert str(mine.public_id) in text
    assert str(theirs.public_id) not in text
    assert "Quinn Partner" not in text
    assert "quinn@mail.example" not in text
    assert str(world.partner_b.public_id) not in text
    assert data["sections"]["intake"]["data"]["answers"]["what_brings_you"] == "Fictional: Pat's own reasons."
    assert "Quinn's own reasons" not in text
    assert "0199" not in text
    decisions = data["sections"]["consents"]["data"]["decisions"]
    assert {d["item"] for d in decisions if not d["granted"]} == {"anonymised_reports"}
    # The joint session is joint: it is in both partners' exports.
    assert [a["id"] for a in data["sections"]["appointments"]["data"]] == [str(joint.public_id)]
    assert data["sections"]["appointments"]["data"][0]["joint"] is True


def test_a_client_without_an_intake_gets_a_section_that_says_so(world, django_capture_on_commit_callbacks):
    export = _export_for(world, "client", django_capture_on_commit_callbacks)
    data, pdf = _unzip(export.file)
    assert data["sections"]["intake"]["data"] is None
    assert pdf.startswith(b"%PDF")


def test_the_record_access_section_lists_others_opening_the_record_not_the_client(world, client_as, django_capture_on_commit_callbacks):
    client_as("therapist_a").get(reverse("workspace:case_detail", kwargs={"case_id": world.individual_case.public_id}))
    export = _export_for(world, "client", django_capture_on_commit_callbacks)
    rows = _unzip(export.file)[0]["sections"]["record_access"]["data"]
    assert {"who": "Theo Treating", "action": "opened", "what": "your therapy record"}.items() <= rows[0].items()
    assert all(row["who"] != "Cora Client" for row in rows)


def test_a_second_request_while_one_is_in_flight_is_refused_and_writes_nothing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        export_request(actor=world.user("client"))
    rows, events = DataExport.objects.count(), AuditEvent.objects.count()

    with pytest.raises(ValidationError) as refused:
        export_request(actor=world.user("client"))

    assert refused.value.code == "in_flight"
    assert (DataExport.objects.count(), AuditEvent.objects.count()) == (rows, events)


def test_the_other_partner_may_ask_while_one_partner_is_waiting(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        export_request(actor=world.user("partner_a"))
        export_request(actor=world.user("partner_b"))
    assert DataExport.objects.filter(status=ExportStatus.QUEUED).count() == 2


def test_a_failed_build_says_so_plainly_and_logs_no_content(world, django_capture_on_commit_callbacks, caplog):
    def broken(client):
        raise ValueError("Fictional clinical sentence that must stay out of logs")

    export_registry.register(broken, title="Broken", summary="broken")
    try:
        with caplog.at_level(logging.INFO, logger="rapport.portal"):
            export = _export_for(world, "client", django_capture_on_commit_callbacks)
    finally:
        export_registry.unregister(broken)

    assert export.status == ExportStatus.FAILED
    assert export.failure == FAILED_MESSAGE
    assert export.file == b""
    assert "ValueError" in caplog.text
    assert "Fictional clinical sentence" not in caplog.text
    assert AuditEvent.objects.filter(object_id=export.public_id, action=Action.UPDATE, detail__status="failed").exists()
    # A failed export is not in flight: the client may ask again.
    with django_capture_on_commit_callbacks(execute=False):
        export_request(actor=world.user("client"))


def test_a_section_returning_json_it_cannot_encode_fails_the_build(world, django_capture_on_commit_callbacks):
    def unencodable(client):
        return ExportSection(key="odd", title="Odd", data={"value": object()})

    export_registry.register(unencodable, title="Odd", summary="odd")
    try:
        export = _export_for(world, "client", django_capture_on_commit_callbacks)
    finally:
        export_registry.unregister(unencodable)
    assert export.status == ExportStatus.FAILED


# --- The sweep -------------------------------------------------------------------------------------------------


def test_the_sweep_deletes_expired_files_and_keeps_the_rows(world, django_capture_on_commit_callbacks):
    old = _export_for(world, "client", django_capture_on_commit_callbacks)
    fresh = _export_for(world, "partner_a", django_capture_on_commit_callbacks)
    DataExport.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    report = exports_sweep()

    assert report.expired == 1
    old, fresh = DataExport.objects.get(pk=old.pk), DataExport.objects.get(pk=fresh.pk)
    assert (old.status, old.file, old.token, old.file_size) == (ExportStatus.EXPIRED, b"", "", 0)
    assert fresh.status == ExportStatus.READY
    assert fresh.file
    assert AuditEvent.objects.filter(object_id=old.public_id, action=Action.DELETE, client_id=world.client.public_id).count() == 1
    assert exports_sweep().expired == 0


def test_the_sweep_fails_a_build_whose_worker_died_so_the_client_can_ask_again(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        export = export_request(actor=world.user("client"))
    DataExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.BUILDING, started_at=timezone.now() - STUCK_AFTER - timedelta(minutes=1)
    )

    assert exports_sweep().failed_stuck == 1
    assert DataExport.objects.get(pk=export.pk).status == ExportStatus.FAILED


def test_the_sweep_starts_a_request_the_queue_never_took(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        export = export_request(actor=world.user("client"))
    DataExport.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    assert exports_sweep().restarted == 1
    assert DataExport.objects.get(pk=export.pk).status == ExportStatus.READY


# --- The page and the download ------------------------------------------------------------------------------------


def test_the_page_explains_each_section_and_asking_queues_an_export(world, client_as, django_capture_on_commit_callbacks):
    browser = client_as("client")
    page = browser.get(MY_DATA).content.decode()
    for entry in export_registry.registered():
        assert entry.title in page

    with django_capture_on_commit_callbacks(execute=False):
        response = browser.post(MY_DATA)
    assert response.status_code == 303
    export = DataExport.objects.get(client=world.client)
    assert export.status == ExportStatus.QUEUED

    page = browser.get(MY_DATA).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "<progress" in page
    assert "Refresh" in page

    again = browser.post(MY_DATA, follow=True)
    assert IN_FLIGHT_MESSAGE in again.content.decode()
    assert DataExport.objects.filter(client=world.client).count() == 1


def test_htmx_polls_get_the_list_alone_and_stop_once_it_is_ready(world, client_as, django_capture_on_commit_callbacks):
    browser = client_as("client")
    with django_capture_on_commit_callbacks(execute=False):
        export = export_request(actor=world.user("client"))
    building = browser.get(MY_DATA, headers={"HX-Request": "true"}).content.decode()
    assert building.lstrip().startswith('<section id="my-exports"')
    assert 'hx-trigger="every 2s"' in building

    from rapport.portal.services import export_build

    export_build(export_pk=export.pk)
    ready = browser.get(MY_DATA, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in ready
    assert _download_url(DataExport.objects.get(pk=export.pk)) in ready


def test_the_owner_downloads_the_zip_and_the_download_is_audited(world, client_as, django_capture_on_commit_callbacks):
    export = _export_for(world, "client", django_capture_on_commit_callbacks)
    response = client_as("client").get(_download_url(export))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    data, pdf = _unzip(response.content)
    assert data["client"] == str(world.client.public_id)
    assert pdf.startswith(b"%PDF")
    event = AuditEvent.objects.filter(action=Action.EXPORT, object_id=export.public_id).get()
    assert (event.actor_id, str(event.client_id)) == (world.user("client").pk, str(world.client.public_id))


@pytest.mark.parametrize(
    ("persona", "status"), [("partner_b", 404), ("partner_a", 404), ("other_practice_client", 404), ("therapist_a", 403)]
)
def test_someone_elses_link_reveals_and_serves_nothing(world, client_as, django_capture_on_commit_callbacks, persona, status):
    export = _export_for(world, "client", django_capture_on_commit_callbacks)
    browser = client_as(persona)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = browser.get(_download_url(export))
    assert response.status_code == status
    assert b"PK" not in response.content[:2]
    assert not AuditEvent.objects.filter(id__gt=mark).exists()


def test_an_expired_link_says_so_with_410_and_serves_nothing(world, client_as, django_capture_on_commit_callbacks):
    export = _export_for(world, "client", django_capture_on_commit_callbacks)
    url = _download_url(export)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    before_sweep = client_as("client").get(url)
    exports_sweep()
    after_sweep = client_as("client").get(url)

    for response in (before_sweep, after_sweep):
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
        assert reverse("portal:my_data") in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
    # And the page no longer offers it.
    assert url not in client_as("client").get(MY_DATA).content.decode()


def test_a_made_up_link_is_not_found(world, client_as):
    assert client_as("client").get(reverse("portal:my_data_download", kwargs={"token": "x" * 43})).status_code == 404
    assert client_as("client").get(reverse("portal:my_data_download", kwargs={"token": "x" * 500})).status_code == 404


def test_key_rotation_reencrypts_a_stored_export(world, django_capture_on_commit_callbacks):
    import base64

    from django.conf import settings
    from django.test import override_settings

    from rapport.core.crypto import key_id_of
    from rapport.core.keyrotation import rotate_all

    export = _export_for(world, "client", django_capture_on_commit_callbacks)
    original = export.file
    new_key = "k2027:" + base64.b64encode(b"E" * 32).decode()
    with override_settings(RAPPORT_ENCRYPTION_KEYS=f"{new_key},{settings.RAPPORT_ENCRYPTION_KEYS}"):
        rotate_all()
        with connection.cursor() as cursor:
            cursor.execute("SELECT file, token FROM rapport_portal_dataexport WHERE id = %s", [export.pk])
            raw_file, raw_token = cursor.fetchone()
        assert key_id_of(raw_file) == key_id_of(raw_token) == "k2027"
        assert DataExport.objects.get(pk=export.pk).file == original
