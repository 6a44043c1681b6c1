"""Answering a check-in: through its one-time link (no account needed) or signed in to the portal.

Both pages ask the same way (``rapport.measures.forms``): one question per screen with Back and
Next, each Next saving what was answered so far (``answers_save(final=False)``), so a client who
stops half-way finds their answers when they come back; then a review of every answer and Send.
Nothing needs JavaScript. Each screen is its own URL (``?step=3``, ``?step=review``), each post
answers 303 to the next screen, so reloading never sends anything twice.

The link is a credential, like the welcome and booking links: its pages are kept out of caches,
search engines and other sites' referrers; an unknown token gets a plain "not valid" page (404)
that says nothing of whose it was; a link already used, expired, cancelled or not open yet gets
one plain sentence, no form, and changes nothing. ``answers_save`` refuses the link and an account
together, so a signed-in person who opens a link is not treated as its owner: the owner is sent to
the same check-in in their portal, and anyone else is asked to sign out first, whoever the link
belongs to (the page is the same for every link, valid or not).

When an answer is a risk answer, every screen from the next one on shows the practice's crisis
resources first, with a plain sentence that the therapist will be told today, and the client can
carry on; so does the thank-you page. Scores are never shown here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.decorators import role_required
from rapport.accounts.models import Role, User
from rapport.core.link_pages import link_page
from rapport.measures import forms as screens
from rapport.measures import instruments
from rapport.measures.models import Administration, AdministrationStatus
from rapport.measures.respondent import (
    administration_for_token,
    administration_of_client,
    administrations_open_for,
    administrations_sent_recently,
    closed_reason,
    respondent_answers_read,
    risk_answer_given,
)
from rapport.measures.services import answers_save
from rapport.portal.me import signed_in_client

# The session remembers which check-ins this browser has just sent, and whether with a risk answer,
# so the thank-you page (and its crisis resources) is shown to the browser that sent it, never to
# someone who opens the used link later.
SENT_KEY = "checkins_sent"


@dataclass(frozen=True)
class Respondent:
    """Who is answering and how: through the link (``token``) or signed in (``user``)."""

    administration: Administration
    url: str  # this check-in's page
    base_template: str
    token: str | None = None
    user: User | None = None

    @property
    def via_link(self) -> bool:
        return self.token is not None


def _see_other(url: str) -> HttpResponse:
    return HttpResponseRedirect(url, status=303)


def _step_url(respondent: Respondent, step: screens.Step) -> str:
    return f"{respondent.url}?step={step}"


def _context(respondent: Respondent, instrument: instruments.Instrument, **extra: Any) -> dict[str, Any]:
    administration = respondent.administration
    zone = ZoneInfo(administration.client.time_zone or administration.practice.time_zone)
    appointment = administration.appointment
    return {
        "base_template": respondent.base_template,
        "administration": administration,
        "instrument": instrument,
        "practice": administration.practice,
        "therapist": administration.case.primary_therapist.display_name,
        "session_start": appointment.start.astimezone(zone) if appointment is not None else None,
        "due": administration.due_at.astimezone(zone),
        "zone": str(zone),
        "support": False,
        "via_link": respondent.via_link,
        **extra,
    }


def _read(request: HttpRequest, respondent: Respondent) -> dict[str, Any]:
    return respondent_answers_read(administration=respondent.administration, user=respondent.user, token=respondent.token, request=request)


def _closed(request: HttpRequest, respondent: Respondent, reason: str, *, status: int) -> HttpResponse:
    administration = respondent.administration
    try:
        name = instruments.load(administration.instrument_key).name
    except instruments.UnknownInstrument:
        name = "Check-in"
    context = {"base_template": respondent.base_template, "practice": administration.practice, "reason": reason, "name": name}
    return render(request, "portal/checkin_closed.html", context, status=status)


def _sent(request: HttpRequest, respondent: Respondent) -> HttpResponse | None:
    """The thank-you page, for the browser that sent it (and, in the portal, for its owner); else None."""
    administration = respondent.administration
    try:
        instrument = instruments.load(administration.instrument_key)
    except instruments.UnknownInstrument:
        return None
    marker = request.session.get(SENT_KEY, {}).get(str(administration.public_id))
    if marker is None and respondent.via_link:
        return None
    support = bool(marker) or (not respondent.via_link and bool(administration.risk))
    context = _context(respondent, instrument, support=support)
    return render(request, "portal/checkin_sent.html", context)


def _screen(
    request: HttpRequest,
    respondent: Respondent,
    instrument: instruments.Instrument,
    step: screens.Step,
    *,
    answers: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    support = risk_answer_given(respondent.administration)
    if step == screens.REVIEW:
        lines = screens.review(instrument, answers)
        context = _context(respondent, instrument, lines=lines, error=error, support=support, step_url=respondent.url + "?step=")
        context["missing"] = [line for line in lines if line.answer is None and not line.optional]
        return render(request, "portal/checkin_review.html", context, status=status)
    assert isinstance(step, int)
    question = screens.question(instrument, step, answers)
    context = _context(respondent, instrument, question=question, error=error, support=support)
    return render(request, "portal/checkin_question.html", context, status=status)


def _answer(request: HttpRequest, respondent: Respondent) -> HttpResponse:
    """The check-in page itself, for the link and the portal alike: a screen on GET, a save on POST."""
    administration = respondent.administration
    if administration.status == AdministrationStatus.COMPLETED and request.method != "POST":
        thanks = _sent(request, respondent)
        if thanks is not None:
            return thanks
    reason = closed_reason(administration, now=timezone.now())
    if reason is not None:
        return _closed(request, respondent, reason, status=409 if request.method == "POST" else 200)
    instrument = instruments.load(administration.instrument_key)
    step = screens.parse_step(request.GET.get("step"), instrument)

    if request.method != "POST":
        answers = _read(request, respondent)
        return _screen(request, respondent, instrument, step or screens.resume_step(instrument, answers), answers=answers)

    step = step or 1
    form = screens.AnswerForm(request.POST, instrument=instrument, step=step)
    if not form.is_valid():
        problems = form.errors.get("__all__") or form.errors.get("action") or form.errors.get("item") or ["Please try again."]
        return _screen(request, respondent, instrument, step, answers=_read(request, respondent), error=str(problems[0]), status=400)
    action = form.cleaned_data["action"]
    final = action == screens.SEND
    if final:
        missing = screens.missing_required(instrument, _read(request, respondent))
        if missing:
            numbers = ", ".join(str(line.position) for line in missing)
            error = (
                f"Please answer question {numbers} before sending."
                if len(missing) == 1
                else f"Please answer questions {numbers} before sending."
            )
            return _screen(request, respondent, instrument, screens.REVIEW, answers=_read(request, respondent), error=error, status=400)
    answers = form.cleaned_data["answers"]
    if final or answers:
        try:
            result = answers_save(
                administration=administration, answers=answers, final=final, actor=respondent.user, token=respondent.token
            )
        except PermissionError:
            raise Http404("No such check-in.") from None
        except ValidationError as exc:
            administration.refresh_from_db()
            reason = closed_reason(administration, now=timezone.now())
            if reason is not None:
                return _closed(request, respondent, reason, status=409)
            message = f"That answer could not be saved: {exc.messages[0]}"
            return _screen(request, respondent, instrument, step, answers=_read(request, respondent), error=message, status=400)
        if final:
            sent = dict(request.session.get(SENT_KEY, {}))
            sent[str(administration.public_id)] = result.show_crisis_resources
            request.session[SENT_KEY] = sent
            return _see_other(respondent.url)
    return _see_other(_step_url(respondent, screens.step_after(action, step, instrument)))


# --- The one-time link -------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@link_page(referrer="same-origin")
def checkin_link(request: HttpRequest, token: str) -> HttpResponse:
    """A check-in answered through its one-time link: no account needed, the link is the key."""
    administration = administration_for_token(token)
    if request.user.is_authenticated:
        user = request.user
        if administration is not None and administration.client.user_id == user.pk and request.method != "POST":
            # Their own check-in: answer it as themselves, in the portal.
            return _see_other(reverse("portal:checkin", kwargs={"administration_id": administration.public_id}))
        return render(request, "portal/checkin_signed_in.html", {"email": getattr(user, "email", "")})
    if administration is None:
        return render(request, "portal/checkin_link_invalid.html", status=404)
    respondent = Respondent(
        administration=administration,
        url=reverse("checkin_link", kwargs={"token": token}),
        base_template="portal/checkin_base_public.html",
        token=token,
    )
    return _answer(request, respondent)


# --- The portal --------------------------------------------------------------------------------------


@require_safe
@role_required([Role.CLIENT])
@link_page(referrer="same-origin")
def checkins(request: HttpRequest) -> HttpResponse:
    """The client's check-ins: those open now, the soonest due first, and those sent in the last 30 days."""
    _, client = signed_in_client(request)
    now = timezone.now()
    zone = ZoneInfo(client.time_zone)

    def row(administration: Administration) -> dict[str, Any]:
        appointment = administration.appointment
        return {
            "administration": administration,
            "name": instruments.load(administration.instrument_key).name,
            "session_start": appointment.start.astimezone(zone) if appointment is not None else None,
        }

    context = {
        "open": [row(a) for a in administrations_open_for(client, now=now)],
        "sent": [row(a) for a in administrations_sent_recently(client, now=now)],
        "zone": str(zone),
        "practice": client.practice,
    }
    return render(request, "portal/checkins.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required([Role.CLIENT])
@link_page(referrer="same-origin")
def checkin(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    """One of the client's own check-ins; anyone else's (the other partner's included) is not found."""
    user, client = signed_in_client(request)
    administration = administration_of_client(client, administration_id)
    if administration is None:
        raise Http404("No such check-in.")
    respondent = Respondent(
        administration=administration,
        url=reverse("portal:checkin", kwargs={"administration_id": administration.public_id}),
        base_template="portal/base.html",
        user=user,
    )
    return _answer(request, respondent)
