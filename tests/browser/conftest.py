"""Browser journeys: Chromium driven by Playwright against pytest-django's live server.

Every test in this folder is marked ``browser``. Each test gets a fresh browser context (no cookies
carried over), a freshly built world of personas, and two checks that run on every page it visits:
axe-core finds no serious or critical accessibility violation, and the console shows no Content
Security Policy violation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route, sync_playwright

from tests.personas import PASSWORD, TOTP_SECRET, World, build_world

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told that this is deliberate (it reads the variable at each call).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HERE = Path(__file__).resolve().parent
# axe impacts that fail a test; "moderate" and "minor" are reported by axe but do not fail.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
# Actions wait at most this long: a local server answers in milliseconds, so a stuck page fails fast.
TIMEOUT_MS = 10_000


_CALL_FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    # Remember whether the test body failed, so teardown checks do not pile noise on a real failure.
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


# --- Browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium). "
            "They are never skipped: a missing browser is a broken test environment.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# --- The world the live server serves ------------------------------------------------------------------


@pytest.fixture
def world(transactional_db: None, live_server: Any) -> World:
    """The personas, committed so the live server's thread sees them (hence transactional_db)."""
    # The cache holds used TOTP codes; a code used by an earlier test in the same 30 seconds would
    # otherwise be refused as a replay.
    cache.clear()
    return build_world()


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The authenticator code for ``secret`` right now, computed with allauth's own functions.

    allauth accepts only the current period (TOTP_TOLERANCE 0), so a code computed in the last
    moments of a period could expire before the server checks it: then wait for the next period.
    """
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 2:
        time.sleep(period - time.time() % period + 0.1)
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


# --- Per-page checks ---------------------------------------------------------------------------------


@dataclass
class PageChecks:
    """What the checks saw on one browser context: CSP violations and the pages axe looked at."""

    csp_violations: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    axe_checked: set[str] = field(default_factory=set)

    def on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"{message.type}: {message.text} ({message.location.get('url', '?')})")


_AXE_SCRIPT = Axe().axe_script
# axe.run inside a race with a timer: page.evaluate itself never times out, so a stuck run would
# otherwise hang the suite instead of failing it.
_AXE_RUN = """
() => Promise.race([
  axe.run(document, {resultTypes: ["violations"]}),
  new Promise((_, reject) => setTimeout(() => reject(new Error("axe-core did not finish in 20 s")), 20000)),
])
"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now.

    axe is injected with page.evaluate, which goes through the DevTools protocol and is not subject
    to the page's CSP (script-src 'self' + nonce, no 'unsafe-inline'), so the context needs no
    bypass_csp; had the injection tripped the CSP, the console check would report it.
    """
    page.evaluate(_AXE_SCRIPT)
    results = page.evaluate(_AXE_RUN)
    return [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def axe_report(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe found {len(violations)} serious/critical violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    target {node['target']}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


@dataclass
class Session:
    """One browser context as a person uses it: a page, its checks, and small helpers."""

    page: Page
    checks: PageChecks
    base_url: str
    browser: Browser
    javascript: bool = True
    _twin: Page | None = None
    _twin_url: str = ""
    _twin_html: str = ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def path(self) -> str:
        url = self.page.url
        return url[len(self.base_url) :] if url.startswith(self.base_url) else url

    def goto(self, path: str, *, status: int = 200) -> None:
        response = self.page.goto(self.url(path))
        assert response is not None
        assert response.status == status, f"GET {path} answered {response.status}, expected {status}"
        self.check()

    def sign_in(self, email: str, *, second_factor: bool, password: str = PASSWORD) -> None:
        """Sign in through allauth's form, with an authenticator code when the account has one."""
        page = self.page
        self.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()
        if second_factor:
            page.wait_for_url("**/accounts/2fa/authenticate/")
            self.check()
            page.get_by_label("Code").fill(totp_code())
            page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url and "/accounts/2fa/authenticate/" not in url)
        self.check()

    def check(self) -> None:
        """The per-page checks: axe on the page as it is now, and the CSP console so far."""
        url = self.page.url
        violations = axe_violations(self.page) if self.javascript else self._axe_violations_of_twin()
        self.checks.axe_checked.add(url)
        if violations:
            pytest.fail(axe_report(url, violations), pytrace=False)
        assert not self.checks.csp_violations, "CSP violations:\n" + "\n".join(self.checks.csp_violations)

    def _axe_violations_of_twin(self) -> list[dict[str, Any]]:
        """axe on a JavaScript-enabled twin of a page that has JavaScript off.

        axe needs timers, and a page with JavaScript disabled never runs them (axe.run hangs). So the
        twin loads the same URL in its own context, answered with this page's exact HTML; its CSP
        allows no script at all, so the twin shows what a person without JavaScript sees, and axe,
        injected through the DevTools protocol, still runs.
        """
        url, html = self.page.url, self.page.content()
        if self._twin is None:
            context = self.browser.new_context(base_url=self.base_url)
            context.set_default_timeout(TIMEOUT_MS)
            self._twin = context.new_page()
            self._twin.route(lambda candidate: candidate == self._twin_url, self._answer_twin)
        self._twin_url, self._twin_html = url, html
        self._twin.goto(url)
        return axe_violations(self._twin)

    def _answer_twin(self, route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "script-src 'none'"},
            body=self._twin_html,
        )

    def close(self) -> None:
        if self._twin is not None:
            self._twin.context.close()
        self.page.context.close()


@pytest.fixture
def new_session(request: pytest.FixtureRequest, browser: Browser, live_server: Any) -> Iterator[Callable[..., Session]]:
    """Opens fresh browser contexts; after the test, fails on any CSP violation or unchecked page."""
    opened: list[Session] = []

    def make(*, javascript: bool = True, **context_options: Any) -> Session:
        context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript, **context_options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        checks = PageChecks()
        page.on("console", checks.on_console)
        page.on("framenavigated", lambda frame: frame == frame.page.main_frame and checks.visited.append(frame.url))
        session = Session(page=page, checks=checks, base_url=live_server.url, browser=browser, javascript=javascript)
        opened.append(session)
        return session

    yield make

    problems = []
    test_failed = request.node.stash.get(_CALL_FAILED, False)
    for session in opened:
        if test_failed:
            session.close()
            continue
        if session.checks.csp_violations:
            problems.append("CSP violations:\n" + "\n".join(session.checks.csp_violations))
        unchecked = sorted(set(session.checks.visited) - session.checks.axe_checked)
        if unchecked:
            problems.append("pages visited without an axe check: " + ", ".join(unchecked))
        session.close()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def session(new_session: Callable[..., Session]) -> Session:
    """A browser context with JavaScript on: the usual way people use Rapport."""
    return new_session()


@pytest.fixture
def page(session: Session) -> Page:
    """The page of the ``session`` fixture (a new context for each test)."""
    return session.page
