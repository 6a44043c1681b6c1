"""The controls around check-ins: the therapist's plan page, the practice's risk settings, and a
client pausing check-ins. Services and pages, on SQLite and PostgreSQL alike (all fictional)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from rapport.audit.models import AuditEvent
from rapport.consents.models import ConsentDocument, ItemDecision
from rapport.consents.selectors import consent_state, decision_history
from rapport.consents.services import CHECK_INS, ItemSpec, consent_defaults_create, consent_item_decide, consent_version_publish
from rapport.measures.models import Administration, AdministrationStatus, PlanEntry
from rapport.measures.pausing import SUBJECT as PAUSE_SUBJECT
from rapport.measures.pausing import check_ins_pause, check_ins_resume
from rapport.measures.plan_selectors import plan_current
from rapport.measures.services import administrations_for_appointment, answers_save, check_ins_paused
from rapport.practice.models import Practice
from rapport.practice.services import CrisisResource, practice_risk_settings_set
from tests.checkins import NOW, PHQ9_WITH_RISK, book, phq9_of, prepare
from tests.consenting import sign_all, withdraw

# --- The plan page ------------------------------------------------------------------------------------


def _plan_url(case) -> str:
    return reverse("workspace:measurement_plan", kwargs={"case_id": case.public_id})


def test_the_plan_page_shows_the_defaults_without_creating_them(world, client_as):
    response = client_as("therapist_a").get(_plan_url(world.individual_case))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Patient Health Questionnaire-9 (PHQ-9): before each session" in html
    assert "After-session check-in: after each session" in html
    assert "created from now on" in html
    assert not PlanEntry.objects.filter(case=world.individual_case).exists()


def test_who5_is_shown_but_cannot_be_ticked(world, client_as):
    html = client_as("therapist_a").get(_plan_url(world.individual_case)).content.decode()
    assert "WHO-5 Well-Being Index" in html
    assert 'value="who5"' not in html
    assert "set up for data collection only" in html
    assert 'disabled aria-describedby="why-who5"' in html


def test_the_therapist_changes_the_plan(world, client_as):
    browser = client_as("therapist_a")
    response = browser.post(_plan_url(world.individual_case), {"before": ["gad7"], "after": ["alliance", "phq2"]})
    assert response.status_code == 303
    assert plan_current(world.individual_case) == {("gad7", "before"), ("alliance", "after"), ("phq2", "after")}
    page = browser.get(response["Location"]).content.decode()
    assert "Plan saved. It applies to check-ins created from now on" in page
    assert AuditEvent.objects.filter(object_type="clients.case", action="update", detail__fields=["measurement_plan"]).exists()


def test_an_emptied_plan_stays_empty(world, client_as):
    response = client_as("therapist_a").post(_plan_url(world.couple_case), {})
    assert response.status_code == 303
    assert plan_current(world.couple_case) == set()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"before": ["who5"]}, "data collection only"),
        ({"before": ["phq9"], "after": ["no_such_instrument"]}, "There is no instrument called"),
    ],
)
def test_a_bad_plan_is_refused_and_changes_nothing(world, client_as, data, message):
    client_as("therapist_a").post(_plan_url(world.individual_case), {"before": ["phq9"], "after": ["alliance"]})
    before = plan_current(world.individual_case)
    response = client_as("therapist_a").post(_plan_url(world.individual_case), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    assert plan_current(world.individual_case) == before


def test_the_case_page_links_to_the_plan(world, client_as):
    html = client_as("therapist_a").get(reverse("workspace:case_detail", kwargs={"case_id": world.individual_case.public_id})).content
    assert _plan_url(world.individual_case).encode() in html


def test_a_plan_change_applies_to_check_ins_created_afterwards(world, client_as):
    prepare(world)
    first = book(world)
    administrations_for_appointment(first, now=NOW)
    client_as("therapist_a").post(_plan_url(world.individual_case), {"before": ["phq2"]})
    second = book(world, start=NOW.replace(day=25, hour=10))
    administrations_for_appointment(second, now=NOW)
    assert set(Administration.objects.filter(appointment=first).values_list("instrument_key", flat=True)) == {"phq9", "gad7", "alliance"}
    assert set(Administration.objects.filter(appointment=second).values_list("instrument_key", flat=True)) == {"phq2"}


# --- Risk follow-up settings ------------------------------------------------------------------------


def _risk_form(world, **changes):
    data = {
        "escalation_minutes": "20",
        "on_call": str(world.therapist_b.public_id),
        "crisis-TOTAL_FORMS": "2",
        "crisis-INITIAL_FORMS": "0",
        "crisis-0-name": "Harbour Crisis Line (fictional)",
        "crisis-0-contact": "1-800-555-0100",
        "crisis-0-note": "24 hours, free",
        "crisis-1-name": "",
        "crisis-1-contact": "",
        "crisis-1-note": "",
    }
    data.update(changes)
    return data


def _practice(world) -> Practice:
    return Practice.objects.get(pk=world.practice.pk)


def test_the_admin_sets_the_risk_follow_up(world, client_as):
    response = client_as("admin").post(reverse("workspace:risk_settings"), _risk_form(world))
    assert response.status_code == 303
    practice = _practice(world)
    assert practice.risk_escalation_minutes == 20
    assert practice.on_call_therapist == world.therapist_b
    assert practice.crisis_resources == [{"name": "Harbour Crisis Line (fictional)", "contact": "1-800-555-0100", "note": "24 hours, free"}]
    event = AuditEvent.objects.filter(object_type="practice.practice", action="update").get()
    assert event.detail == {"fields": ["risk_escalation_minutes", "on_call_therapist", "crisis_resources"]}
    assert event.actor == world.user("admin")


def test_the_settings_page_is_linked_for_the_admin(world, client_as):
    html = client_as("admin").get(reverse("workspace:home")).content.decode()
    assert reverse("workspace:risk_settings") in html


def test_no_one_on_call_means_the_admins(world, client_as):
    Practice.objects.filter(pk=world.practice.pk).update(on_call_therapist=world.therapist_b)
    response = client_as("admin").post(reverse("workspace:risk_settings"), _risk_form(world, on_call=""))
    assert response.status_code == 303
    assert _practice(world).on_call_therapist is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"escalation_minutes": "0"}, "That is too short. Between 1 and 480 minutes."),
        ({"escalation_minutes": "481"}, "That is too long for a risk answer to wait."),
        ({"escalation_minutes": "soon"}, "Give a whole number of minutes."),
        ({"crisis-0-name": "", "crisis-0-contact": "", "crisis-0-note": ""}, "Give at least one crisis resource"),
        ({"crisis-0-contact": ""}, "A resource needs both its name and how to reach it"),
        ({"on_call": "00000000-0000-4000-8000-000000000000"}, "Choose one of the practice&#x27;s active therapists, or no one."),
    ],
)
def test_bad_risk_settings_are_refused_and_change_nothing(world, client_as, changes, message):
    before = _practice(world)
    response = client_as("admin").post(reverse("workspace:risk_settings"), _risk_form(world, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    after = _practice(world)
    assert (after.risk_escalation_minutes, after.on_call_therapist_id, after.crisis_resources) == (
        before.risk_escalation_minutes,
        before.on_call_therapist_id,
        before.crisis_resources,
    )
    assert not AuditEvent.objects.filter(object_type="practice.practice", action="update").exists()


def test_another_practices_therapist_cannot_be_on_call(world):
    other = world.other_practice.therapists.first()
    if other is None:
        pytest.fail("the world's other practice needs a therapist for this test")
    with pytest.raises(ValidationError, match="active therapist of this practice"):
        practice_risk_settings_set(
            actor=world.user("admin"),
            practice=world.practice,
            escalation_minutes=30,
            on_call_therapist=other,
            crisis_resources=[CrisisResource(name="Line", contact="1-800-555-0100")],
        )


def test_only_an_admin_of_the_practice_changes_risk_settings(world):
    for persona in ("therapist_a", "supervisor"):
        with pytest.raises(PermissionError):
            practice_risk_settings_set(
                actor=world.user(persona),
                practice=world.practice,
                escalation_minutes=30,
                on_call_therapist=None,
                crisis_resources=[CrisisResource(name="Line", contact="1-800-555-0100")],
            )


# --- Pausing check-ins ------------------------------------------------------------------------------

PAUSE = reverse("portal:checkin_pause")


def _checkins_for_tuesday(world):
    prepare(world)
    appointment = book(world)
    administrations_for_appointment(appointment, now=NOW)
    return appointment


def test_the_default_form_asks_about_check_ins(world):
    sign_all(world.client)
    assert consent_state(world.client)[CHECK_INS] is True


def test_a_client_pauses_check_ins(world, client_as, django_capture_on_commit_callbacks):
    sign_all(world.client)
    appointment = _checkins_for_tuesday(world)
    started = phq9_of(appointment)
    answers_save(administration=started, answers={"phq9_1": 1}, final=False, actor=world.user("client"), now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("client").post(PAUSE, {"action": "pause"})

    assert response.status_code == 303
    assert check_ins_paused(world.client)
    # Not started: cancelled. Started: left to finish.
    statuses = dict(Administration.objects.filter(appointment=appointment).values_list("instrument_key", "status"))
    assert statuses == {
        "phq9": AdministrationStatus.IN_PROGRESS,
        "gad7": AdministrationStatus.CANCELLED,
        "alliance": AdministrationStatus.CANCELLED,
    }
    # A consent choice, in the client's history.
    latest = decision_history(world.client).first()
    assert (latest.item_key, latest.granted, latest.signature) == (CHECK_INS, False, None)
    # The therapist is emailed, without the client's name or anything clinical.
    (email,) = mail.outbox
    assert email.to == [world.user("therapist_a").email]
    assert email.subject == PAUSE_SUBJECT
    for revealing in (world.client.full_name, "Cora", "PHQ", "GAD", world.client.email):
        assert revealing not in email.subject + email.body
    assert reverse("workspace:case_detail", kwargs={"case_id": world.individual_case.public_id}) in email.body
    # ... and sees it on their home page, by name.
    home = client_as("therapist_a").get(reverse("workspace:home")).content.decode()
    assert "Check-ins paused" in home
    assert "Cora Client, since" in home


def test_the_pause_page_says_risk_is_still_followed_up(world, client_as):
    sign_all(world.client)
    html = client_as("client").get(PAUSE).content.decode()
    assert "Pausing does not change your care." in html
    assert "your therapist still follows it up" in html
    assert 'value="pause"' in html


def test_a_paused_client_gets_no_new_check_ins_and_resumes(world, client_as, django_capture_on_commit_callbacks):
    sign_all(world.client)
    prepare(world)
    client_as("client").post(PAUSE, {"action": "pause"})
    assert administrations_for_appointment(book(world), now=NOW) == []
    html = client_as("client").get(PAUSE).content.decode()
    assert "Your check-ins are paused" in html
    assert 'value="resume"' in html

    response = client_as("client").post(PAUSE, {"action": "resume"})
    assert response.status_code == 303
    assert not check_ins_paused(world.client)
    assert [(d.item_key, d.granted) for d in decision_history(world.client)[:2]] == [(CHECK_INS, True), (CHECK_INS, False)]
    assert "Check-ins paused" not in client_as("therapist_a").get(reverse("workspace:home")).content.decode()
    assert len(administrations_for_appointment(book(world, start=NOW.replace(day=25, hour=10)), now=NOW)) == 3


def test_a_client_who_never_signed_can_pause(world, client_as):
    consent_defaults_create(actor=None, practice=world.practice)
    response = client_as("client").post(PAUSE, {"action": "pause"})
    assert response.status_code == 303
    assert check_ins_paused(world.client)


def test_pausing_twice_records_one_choice(world, client_as):
    sign_all(world.client)
    browser = client_as("client")
    browser.post(PAUSE, {"action": "pause"})
    response = browser.post(PAUSE, {"action": "pause"}, follow=True)
    assert "You have already said no to this." in response.content.decode()
    assert ItemDecision.objects.filter(client=world.client, item_key=CHECK_INS, granted=False).count() == 1


def test_an_unknown_action_is_refused(world, client_as):
    sign_all(world.client)
    response = client_as("client").post(PAUSE, {"action": "delete"})
    assert response.status_code == 400
    assert "Choose either to pause or to resume" in response.content.decode()
    assert consent_state(world.client)[CHECK_INS] is True


def test_a_practice_whose_form_does_not_ask_cannot_pause(world, client_as):
    document = ConsentDocument.objects.create(practice=world.practice, key="older-form", title="An older form")
    consent_version_publish(
        actor=None,
        document=document,
        content="Fictional older form.",
        items=[ItemSpec(key="treatment", text="I agree.", required=True)],
        material=True,
    )
    browser = client_as("client")
    page = browser.get(PAUSE).content.decode()
    assert "does not ask about check-ins yet" in page
    assert 'value="pause"' not in page
    # A form posted from an old tab is refused the same way, and records nothing.
    response = browser.post(PAUSE, {"action": "pause"})
    assert response.status_code == 400
    assert "does not ask about this" in response.content.decode()
    assert not ItemDecision.objects.filter(client=world.client).exists()


def test_withdrawing_the_item_on_the_consent_page_pauses_too(world, django_capture_on_commit_callbacks):
    sign_all(world.client)
    appointment = _checkins_for_tuesday(world)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(world.client, CHECK_INS)
    assert set(Administration.objects.filter(appointment=appointment).values_list("status", flat=True)) == {AdministrationStatus.CANCELLED}
    assert [m.subject for m in mail.outbox] == [PAUSE_SUBJECT]


def test_one_partner_pausing_leaves_the_other_asked(world):
    for partner in (world.partner_a, world.partner_b):
        sign_all(partner)
    check_ins_pause(actor=world.partner_a.user, client=world.partner_a)
    prepare(world)
    issued = administrations_for_appointment(book(world, "couple"), now=NOW)
    assert {i.administration.client for i in issued} == {world.partner_b}


def test_a_risk_answer_on_a_started_check_in_still_raises_an_alert_after_a_pause(world):
    sign_all(world.client)
    appointment = _checkins_for_tuesday(world)
    started = phq9_of(appointment)
    answers_save(administration=started, answers={"phq9_1": 1}, final=False, actor=world.user("client"), now=NOW)
    check_ins_pause(actor=world.client.user, client=world.client)
    result = answers_save(administration=started, answers=PHQ9_WITH_RISK, final=True, actor=world.user("client"), now=NOW)
    assert result.alert is not None
    assert result.show_crisis_resources


def test_a_resume_without_a_pause_is_refused(world):
    sign_all(world.client)
    with pytest.raises(ValidationError, match="already agreed"):
        check_ins_resume(actor=world.client.user, client=world.client)


def test_a_required_item_is_not_decided_outside_a_signature(world):
    sign_all(world.client)
    with pytest.raises(ValidationError) as refused:
        consent_item_decide(actor=world.client.user, client=world.client, item_key="treatment", granted=False)
    assert refused.value.code == "required"


def test_another_client_cannot_pause_for_someone(world):
    sign_all(world.client)
    with pytest.raises(PermissionDenied):
        check_ins_pause(actor=world.partner_a.user, client=world.client)
    assert consent_state(world.client)[CHECK_INS] is True
