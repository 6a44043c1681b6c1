"""The therapist's "Who opened the record" page: each client of the case, their own actions included."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.audit.models import Action, AuditEvent
from rapport.audit.services import audit_record
from rapport.clients.record_access import KINDS, STAFF_KINDS
from rapport.clients.selectors import case_read_for_user
from rapport.practice.models import ServiceKind
from tests.sessions import book


def _url(case) -> str:
    return reverse("workspace:case_record_access", kwargs={"case_id": case.public_id})


def _sections(response) -> dict[str, list[AuditEvent]]:
    assert response.status_code == 200
    return {section.client.full_name: list(section.page.object_list) for section in response.context["sections"]}


def _section_html(html: str, name: str) -> str:
    """The part of the page under one client's heading, up to the next section."""
    start = html.index(f">{name}</h2>")
    return html[start : html.index("</section>", start)]


def _last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_each_partner_has_a_section_holding_only_their_own_records_events(world, client_as):
    therapist = world.user("therapist_a")
    audit_record(actor=therapist, action=Action.VIEW, object_type="clients.client", client_id=world.partner_b.public_id)
    # Pat opens the joint case in the portal: recorded against Pat's record alone.
    case_read_for_user(world.user("partner_a"), world.couple_case.public_id)
    response = client_as("therapist_a").get(_url(world.couple_case))
    sections = _sections(response)

    assert list(sections) == ["Pat Partner", "Quinn Partner"]
    assert {str(e.client_id) for e in sections["Pat Partner"]} == {str(world.partner_a.public_id)}
    assert {str(e.client_id) for e in sections["Quinn Partner"]} == {str(world.partner_b.public_id)}
    html = response.content.decode()
    assert "<strong>Pat Partner</strong>" in _section_html(html, "Pat Partner")
    assert "<strong>Pat Partner</strong>" not in _section_html(html, "Quinn Partner")
    assert "the client&#x27;s details" in _section_html(html, "Quinn Partner")


def test_the_clients_own_portal_actions_are_listed_and_the_page_says_so(world, client_as):
    case_read_for_user(world.user("client"), world.individual_case.public_id)
    response = client_as("therapist_a").get(_url(world.individual_case))
    newest = response.context["sections"][0].rows[0]
    assert (newest.who, newest.role, newest.action, newest.kind) == ("Cora Client", "Client", "opened", "the therapy record")
    assert "including the client's own actions in the portal" in " ".join(response.content.decode().split())


def test_events_are_worded_for_the_therapist_not_addressed_to_the_client(world, client_as):
    appointment = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    assert appointment is not None
    rows = client_as("therapist_a").get(_url(world.individual_case)).context["sections"][0].rows
    assert rows
    assert not [row for row in rows if "your" in row.kind]
    assert set(STAFF_KINDS) == set(KINDS), "every kind the client's page words needs a wording for the therapist"


def test_times_are_in_the_therapists_zone_not_the_clients(world, client_as):
    world.therapist_a.time_zone = "Asia/Tokyo"
    world.therapist_a.save(update_fields=["time_zone"])
    response = client_as("therapist_a").get(_url(world.individual_case))
    html = response.content.decode()
    assert "Times are in Asia/Tokyo" in html
    assert "JST" in html
    assert "EST" not in html
    assert "EDT" not in html
    newest = response.context["sections"][0].rows[0]
    assert newest.when.utcoffset() == timedelta(hours=9)


def test_each_partner_is_paged_on_their_own_newest_first(world, client_as):
    for _ in range(30):
        case_read_for_user(world.user("partner_a"), world.couple_case.public_id)
    pat_total = AuditEvent.objects.filter(client_id=world.partner_a.public_id).count()
    quinn_total = AuditEvent.objects.filter(client_id=world.partner_b.public_id).count()
    assert quinn_total < 25 < pat_total <= 50
    browser = client_as("therapist_a")
    url = _url(world.couple_case)

    first = browser.get(url).context["sections"]
    pat, quinn = first
    ids = [e.pk for e in pat.page]
    assert len(ids) == 25
    assert ids == sorted(ids, reverse=True)
    assert (pat.newer_url, pat.older_url) == (None, "?page1=2&page2=1#access-1")
    assert (quinn.page.paginator.num_pages, quinn.newer_url, quinn.older_url) == (1, None, None)

    response = browser.get(url + "?page1=2&page2=1")
    pat, quinn = response.context["sections"]
    assert len(pat.page) == pat_total - 25
    assert max(e.pk for e in pat.page) < min(ids)
    assert pat.newer_url == "?page1=1&page2=1#access-1"
    assert len(quinn.page) == quinn_total
    html = response.content.decode()
    assert 'href="?page1=1&amp;page2=1#access-1"' in html
    assert "Page 2 of 2" in _section_html(html, "Pat Partner")

    assert browser.get(url + "?page1=99").context["sections"][0].page.number == 2
    assert browser.get(url + "?page1=nonsense&page2=7").context["sections"][0].page.number == 1


def test_opening_the_page_records_nothing(world, client_as):
    browser = client_as("therapist_a")
    mark = _last_event_id()
    assert browser.get(_url(world.couple_case)).status_code == 200
    assert _last_event_id() == mark


def test_the_case_page_links_to_it_for_the_cases_therapist(world, client_as):
    html = client_as("therapist_a").get(reverse("workspace:case_detail", kwargs={"case_id": world.couple_case.public_id})).content.decode()
    assert f'href="{_url(world.couple_case)}"' in html


def _queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_however_many_events(world, client_as):
    browser = client_as("therapist_a")
    url = _url(world.couple_case)
    browser.get(url)
    control = _queries(browser, url)
    for persona in ("therapist_a", "partner_a", "partner_b"):
        for _ in range(15):
            case_read_for_user(world.user(persona), world.couple_case.public_id)
    book(world, world.couple_case, ServiceKind.COUPLE, hour=13)
    assert _queries(browser, url) == control
    assert _queries(browser, url + "?page1=2&page2=2") == control
    assert control <= 15, f"the page makes {control} queries"
