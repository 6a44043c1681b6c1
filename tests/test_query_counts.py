"""List pages cost the same number of queries whatever the data size (GitLab-style control + 5)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.clients.services import case_open, client_create

PAGES = {
    "therapist_a": ["/workspace/", "/workspace/cases/"],
    "admin": ["/workspace/", "/workspace/staff/", "/workspace/audit/"],
    "client": ["/portal/"],
}


def _count(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def test_list_pages_do_not_grow_with_the_data(world, client_as):
    browsers = {persona: client_as(persona) for persona in PAGES}
    for persona, urls in PAGES.items():
        # The first request of a session also writes the session and its activity record.
        browsers[persona].get(urls[0])
    control = {(p, url): _count(browsers[p], url) for p, urls in PAGES.items() for url in urls}
    therapist = world.therapist_a
    for n in range(5):
        first = client_create(actor=None, practice=world.practice, full_name=f"Extra Client {n}", email=f"extra{n}@mail.example")
        second = client_create(actor=None, practice=world.practice, full_name=f"Extra Partner {n}", email=f"partner{n}@mail.example")
        case_open(actor=world.user("therapist_a"), therapist=therapist, clients=[first, second], status="active")
    for (persona, url), before in control.items():
        after = _count(browsers[persona], url)
        assert after == before, f"{url} as {persona}: {before} queries with the control data, {after} with 5 more cases"
        assert after <= 15, f"{url} as {persona} makes {after} queries (budget 15, RELIABILITY target 15)"
