"""The public booking flow and the pages behind each participant's manage link.

Every step is a plain form that works without JavaScript; htmx only reloads the free times in
place. The times offered come from ``availability.free_starts``, the function the booking service
checks against, so an offered time is accepted unless someone else was quicker. The services
decide; these views read input, call them, and say plainly what happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from rapport.clients.models import CaseKind
from rapport.core.htmx import render_page_or_fragment
from rapport.core.link_pages import link_page
from rapport.practice.models import Practice, Service, ServiceKind, Therapist
from rapport.practice.selectors import public_practice, services_offered
from rapport.scheduling.availability import free_starts
from rapport.scheduling.booking import (
    BookingRequest,
    manage_link_opened,
    participant_for_token,
    public_booking_create,
    therapists_bookable,
)
from rapport.scheduling.models import Appointment, AppointmentStatus, Participant
from rapport.scheduling.services import (
    PolicyRefused,
    SlotUnavailable,
    appointment_cancel,
    appointment_reschedule,
    client_change_rule,
    video_url,
)
from rapport.site import ratelimit
from rapport.site.forms import (
    ANY_THERAPIST,
    SLOT_UNREADABLE,
    BookingDetailsForm,
    CancelForm,
    RescheduleForm,
    SlotChoice,
    SlotQueryForm,
    parse_slot,
    time_zone_names,
)

# How many other times to offer when the chosen one is gone.
NEAREST_COUNT = 6
DAYS_SHOWN = 7
BOOKED_TAG = "booked"


def _now() -> datetime:
    """The booking pages' clock: one place, so tests can pin the day they book on."""
    return timezone.now()


# --- Shared helpers -----------------------------------------------------------------------------------


def _with_practice(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pass the public practice to the view, or answer with the "not set up yet" page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        practice = public_practice()
        if practice is None:
            return render(request, "site/not_set_up.html", status=503)
        return view(request, practice, *args, **kwargs)

    return wrapped


def _see_other(url: str) -> HttpResponse:
    # 303: after a POST the browser fetches the next page with GET, and a reload does not resubmit.
    return HttpResponseRedirect(url, status=303)


def _rate_limited(request: HttpRequest, limit: ratelimit.Limit, *, practice: Practice | None, by_email: bool = False) -> HttpResponse:
    response = render(request, "site/rate_limited.html", {"practice": practice, "limit": limit, "by_email": by_email}, status=429)
    response["Retry-After"] = str(limit.window_seconds)
    return response


def _zone_or(name: str | None, default: str) -> str:
    return name if name and name in time_zone_names() else default


def _day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _when(start: datetime, zone: str) -> str:
    """A start as people read it in their zone: "Tuesday 24 November 2026 at 15:00"."""
    local = start.astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def _service_or_404(practice: Practice, service_id: uuid.UUID) -> Service:
    service = services_offered(practice).filter(public_id=service_id).first()
    if service is None:
        raise Http404("No such service")
    return service


class _NotOffered(Exception):
    """A slot value names a therapist who is not one of those offered here."""


def _therapist_of(choice: SlotChoice, offered: list[Therapist]) -> Therapist | None:
    if choice.therapist_id is None:
        return None
    for therapist in offered:
        if therapist.public_id == choice.therapist_id:
            return therapist
    raise _NotOffered


# --- Free times -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotOption:
    value: str
    label: str  # the local time, "15:00"
    iso: str  # the local time with its offset, for <time datetime>


@dataclass(frozen=True)
class SlotDay:
    day: date
    label: str
    options: list[SlotOption]


def _free_choices(
    *,
    service: Service,
    therapist: Therapist | None,
    pool: list[Therapist],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    moving: Appointment | None = None,
) -> list[SlotChoice]:
    """Free starts of one therapist, or (therapist None) of anyone in ``pool`` as "first available".

    ``moving``: the appointment being rescheduled; its own time counts as free (so a move by a
    quarter of an hour is offered), except its current start, which would be no move at all.
    """

    def starts_of(who: Therapist) -> list[datetime]:
        starts = free_starts(therapist=who, service=service, window_start=window_start, window_end=window_end, now=now, ignore=moving)
        return [start for start in starts if moving is None or start != moving.start]

    if therapist is not None:
        return [SlotChoice(therapist.public_id, start) for start in starts_of(therapist)]
    starts: set[datetime] = set()
    for candidate in pool:
        starts.update(starts_of(candidate))
    return [SlotChoice(None, start) for start in sorted(starts)]


def _group_by_day(choices: list[SlotChoice], zone: str, days: list[date] | None = None) -> list[SlotDay]:
    local_zone = ZoneInfo(zone)
    grouped: dict[date, list[SlotOption]] = {day: [] for day in days or []}
    for choice in choices:
        local = choice.start.astimezone(local_zone)
        grouped.setdefault(local.date(), []).append(SlotOption(value=choice.value, label=f"{local:%H:%M}", iso=local.isoformat()))
    return [SlotDay(day=day, label=_day_label(day), options=options) for day, options in sorted(grouped.items())]


def _nearest(
    *,
    service: Service,
    therapist: Therapist | None,
    pool: list[Therapist],
    after: datetime,
    now: datetime,
    moving: Appointment | None = None,
) -> list[SlotChoice]:
    """The next free times after ``after``: the same therapist's, or anyone's if they have none left."""
    horizon = now + timedelta(days=service.booking_horizon_days)
    start = max(after, now)
    found = _free_choices(service=service, therapist=therapist, pool=pool, window_start=start, window_end=horizon, now=now, moving=moving)
    if not found and therapist is not None and therapist in pool:
        found = _free_choices(service=service, therapist=None, pool=pool, window_start=start, window_end=horizon, now=now)
    return found[:NEAREST_COUNT]


def _slot_region(
    *,
    url: str,
    params: dict[str, str],
    service: Service,
    therapist: Therapist | None,
    pool: list[Therapist],
    zone: str,
    asked_week: date | None,
    now: datetime,
    moving: Appointment | None = None,
) -> dict[str, Any]:
    """The context of ``site/_slots.html``: one week of free times in ``zone``, with its navigation."""
    local_zone = ZoneInfo(zone)
    today = now.astimezone(local_zone).date()
    last_day = today + timedelta(days=service.booking_horizon_days)
    first = min(max(asked_week or today, today), last_day)
    days = [first + timedelta(days=n) for n in range(DAYS_SHOWN)]
    window_start = datetime.combine(first, time(0), tzinfo=local_zone)
    window_end = datetime.combine(first + timedelta(days=DAYS_SHOWN), time(0), tzinfo=local_zone)
    choices = _free_choices(
        service=service, therapist=therapist, pool=pool, window_start=window_start, window_end=window_end, now=now, moving=moving
    )

    def week_url(day: date) -> str:
        return f"{url}?{urlencode({**params, 'week': day.isoformat()})}"

    later = first + timedelta(days=DAYS_SHOWN)
    next_free: dict[str, str] | None = None
    if not choices and later <= last_day:
        upcoming = _free_choices(
            service=service,
            therapist=therapist,
            pool=pool,
            window_start=window_end,
            window_end=now + timedelta(days=service.booking_horizon_days),
            now=now,
            moving=moving,
        )
        if upcoming:
            day = upcoming[0].start.astimezone(local_zone).date()
            next_free = {"label": _day_label(day), "url": week_url(day)}
    return {
        "days": _group_by_day(choices, zone, days),
        "slot_count": len(choices),
        "week_value": first.isoformat(),
        "week_label": f"{_day_label(days[0])} to {_day_label(days[-1])}",
        "earlier_url": week_url(max(today, first - timedelta(days=DAYS_SHOWN))) if first > today else None,
        "later_url": week_url(later) if later <= last_day else None,
        "next_free": next_free,
        "nav_url": url,
        "zone": zone,
    }


def _alternatives_region(choices: list[SlotChoice], zone: str) -> dict[str, Any]:
    """The context of ``site/_slots.html`` for a short list of other times, without week navigation."""
    return {"days": _group_by_day(choices, zone), "slot_count": len(choices), "alternatives": True, "zone": zone}


# --- Choosing a service and a time ----------------------------------------------------------------


@require_safe
@_with_practice
def book(request: HttpRequest, practice: Practice) -> HttpResponse:
    return render(request, "site/book.html", {"practice": practice, "services": services_offered(practice)})


@require_safe
@_with_practice
def book_time(request: HttpRequest, practice: Practice, service_id: uuid.UUID) -> HttpResponse:
    service = _service_or_404(practice, service_id)
    pool = therapists_bookable(practice)
    query = SlotQueryForm(request.GET, therapist_ids=[str(t.public_id) for t in pool])
    query.is_valid()
    chosen = query.cleaned_data
    therapist = next((t for t in pool if str(t.public_id) == chosen.get("therapist")), None)
    zone = chosen.get("tz") or practice.time_zone
    url = reverse("site:book_time", kwargs={"service_id": service.public_id})
    therapist_value = str(therapist.public_id) if therapist else ANY_THERAPIST
    context = {
        "practice": practice,
        "service": service,
        "therapists": pool,
        "therapist_value": therapist_value,
        "zone": zone,
        "zones": time_zone_names(),
        "ignored": bool(query.errors),
        "region": _slot_region(
            url=url,
            params={"therapist": therapist_value, "tz": zone},
            service=service,
            therapist=therapist,
            pool=pool,
            zone=zone,
            asked_week=chosen.get("week"),
            now=_now(),
        ),
    }
    return render_page_or_fragment(request, "site/book_time.html", "site/_slots.html", context)


# --- Details and confirmation ---------------------------------------------------------------------


@never_cache  # the page shows back what was typed, which no shared or back-button cache should keep
@require_http_methods(["GET", "HEAD", "POST"])
@_with_practice
def book_details(request: HttpRequest, practice: Practice, service_id: uuid.UUID) -> HttpResponse:
    service = _service_or_404(practice, service_id)
    if request.method == "POST":
        return _book_details_post(request, practice, service)
    if "slot" not in request.GET:
        return HttpResponseRedirect(reverse("site:book_time", kwargs={"service_id": service.public_id}))
    pool = therapists_bookable(practice)
    now = _now()
    zone = _zone_or(request.GET.get("tz"), practice.time_zone)
    form = BookingDetailsForm(couple=service.kind == ServiceKind.COUPLE, initial={"tz": zone, "slot": request.GET.get("slot", "")})
    page = _DetailsPage(practice=practice, service=service, pool=pool, zone=zone, now=now)
    choice = parse_slot(request.GET.get("slot"))
    therapist: Therapist | None = None
    if choice is not None:
        try:
            therapist = _therapist_of(choice, pool)
        except _NotOffered:
            choice = None
    if choice is None:
        return page.render(request, form, error=SLOT_UNREADABLE, alternatives_after=now, status=400)
    if not _free_choices(
        service=service, therapist=therapist, pool=pool, window_start=choice.start, window_end=choice.start + timedelta(minutes=1), now=now
    ):
        message = "This time has already passed." if choice.start <= now else "This time is no longer free."
        return page.render(
            request, form, error=f"{message} Please choose another.", alternatives_after=choice.start, therapist=therapist, status=200
        )
    return page.render(request, form, choice=choice, therapist=therapist)


@dataclass
class _DetailsPage:
    practice: Practice
    service: Service
    pool: list[Therapist]
    zone: str
    now: datetime

    def render(
        self,
        request: HttpRequest,
        form: BookingDetailsForm,
        *,
        choice: SlotChoice | None = None,
        therapist: Therapist | None = None,
        error: str = "",
        alternatives_after: datetime | None = None,
        status: int = 200,
    ) -> HttpResponse:
        region = None
        if alternatives_after is not None:
            nearest = _nearest(service=self.service, therapist=therapist, pool=self.pool, after=alternatives_after, now=self.now)
            region = _alternatives_region(nearest, self.zone)
        back = reverse("site:book_time", kwargs={"service_id": self.service.public_id})
        context = {
            "practice": self.practice,
            "service": self.service,
            "form": form,
            "zone": self.zone,
            "error": error,
            "region": region,
            "when": _when(choice.start, self.zone) if choice and region is None else "",
            "therapist": therapist,
            "back_url": f"{back}?{urlencode({'tz': self.zone})}",
        }
        return render(request, "site/book_details.html", context, status=status)


def _book_details_post(request: HttpRequest, practice: Practice, service: Service) -> HttpResponse:
    if not ratelimit.hit_by_address(ratelimit.BOOKING_POSTS_PER_IP, request):
        return _rate_limited(request, ratelimit.BOOKING_POSTS_PER_IP, practice=practice)
    pool = therapists_bookable(practice)
    now = _now()
    form = BookingDetailsForm(request.POST, couple=service.kind == ServiceKind.COUPLE)
    zone = _zone_or(request.POST.get("tz"), practice.time_zone)
    page = _DetailsPage(practice=practice, service=service, pool=pool, zone=zone, now=now)
    valid = form.is_valid()
    choice: SlotChoice | None = form.cleaned_data.get("slot")
    therapist: Therapist | None = None
    if choice is not None:
        try:
            therapist = _therapist_of(choice, pool)
        except _NotOffered:
            form.add_error("slot", SLOT_UNREADABLE)
            choice, valid = None, False
    if not valid:
        if choice is None:
            # Nothing trustworthy is left of the time: offer the next free ones, and keep what was typed.
            return page.render(request, form, error=SLOT_UNREADABLE if "slot" in form.errors else "", alternatives_after=now, status=400)
        return page.render(request, form, choice=choice, therapist=therapist, status=400)
    assert choice is not None
    data = form.cleaned_data
    if not ratelimit.hit(ratelimit.BOOKING_POSTS_PER_EMAIL, data["email"]):
        return _rate_limited(request, ratelimit.BOOKING_POSTS_PER_EMAIL, practice=practice, by_email=True)
    booking = BookingRequest(
        service=service,
        therapist=therapist,
        start=choice.start,
        time_zone=data["tz"],
        name=data["name"],
        email=data["email"],
        privacy_accepted=data["privacy"],
        phone=data["phone"],
        reason=data["reason"],
        partner_name=data.get("partner_name", ""),
        partner_email=data.get("partner_email", ""),
    )
    try:
        made = public_booking_create(practice=practice, request=booking, now=now)
    except SlotUnavailable as exc:
        return page.render(request, form, therapist=therapist, error=str(exc), alternatives_after=choice.start, status=409)
    except PolicyRefused as exc:
        return page.render(request, form, choice=choice, therapist=therapist, error=str(exc), status=400)
    except ValidationError as exc:
        return page.render(request, form, choice=choice, therapist=therapist, error=" ".join(exc.messages), status=400)
    if made.joined_existing_client:
        # The address belongs to someone the practice already knows; the link to manage the
        # booking goes to that address only (see BookingMade).
        messages.success(
            request,
            f"You're booked: {made.appointment.service.name}, {_when(made.appointment.start, data['tz'])} ({data['tz']}). "
            "We are emailing the confirmation, with the link to change or cancel, to the address you gave.",
        )
        return _see_other(reverse("site:book"))
    messages.success(
        request,
        "You're booked. We are emailing you a confirmation with the link to this page; keep it to change or cancel.",
        extra_tags=BOOKED_TAG,
    )
    return _see_other(reverse("site:booking_manage", kwargs={"token": made.token}))


# --- Managing a booking --------------------------------------------------------------------------------


def _session_state(appointment: Appointment, now: datetime) -> str:
    if appointment.status == AppointmentStatus.CANCELLED:
        return "cancelled"
    if appointment.status == AppointmentStatus.BOOKED and appointment.start > now:
        return "upcoming"
    if appointment.status == AppointmentStatus.BOOKED and appointment.end > now:
        return "now"
    return "past"


def _invalid_link(request: HttpRequest) -> HttpResponse:
    # The same page for a token that never existed, was revoked or is malformed: nothing tells a
    # guesser whether a booking is behind it.
    return render(request, "site/booking_link_invalid.html", {"practice": public_practice()}, status=404)


def _manage_context(participant: Participant, token: str, zone: str, now: datetime) -> dict[str, Any]:
    appointment = participant.appointment
    state = _session_state(appointment, now)
    return {
        "practice": appointment.practice,
        "participant": participant,
        "appointment": appointment,
        "service": appointment.service,
        "therapist": appointment.therapist,
        "is_couple": appointment.case is not None and appointment.case.kind == CaseKind.COUPLE,
        "zone": zone,
        "zones": time_zone_names(),
        "when": _when(appointment.start, zone),
        "ends": f"{appointment.end.astimezone(ZoneInfo(zone)):%H:%M}",
        "state": state,
        "rule": client_change_rule(appointment, now),
        "video_url": video_url(appointment) if appointment.service.is_online and state in ("upcoming", "now") else None,
        "token": token,
    }


@link_page()
@require_safe
def booking_manage(request: HttpRequest, token: str) -> HttpResponse:
    participant = participant_for_token(token)
    if participant is None:
        return _invalid_link(request)
    now = _now()
    manage_link_opened(participant, now=now)
    zone = _zone_or(request.GET.get("tz"), _zone_or(participant.time_zone, participant.appointment.practice.time_zone))
    context = _manage_context(participant, token, zone, now)
    context["booked_now"] = any(BOOKED_TAG in message.tags for message in messages.get_messages(request))
    context["manage_url"] = request.build_absolute_uri(reverse("site:booking_manage", kwargs={"token": token}))
    return render(request, "site/booking_manage.html", context)


def _who_is_told(appointment: Appointment) -> str:
    if appointment.participants.filter(revoked_at__isnull=True).count() > 1:
        return "Your therapist and everyone else booked for this session are being told by email."
    return "Your therapist is being told by email."


def _participant_zone(participant: Participant) -> str:
    return _zone_or(participant.time_zone, participant.appointment.practice.time_zone)


def _participant_for_change(request: HttpRequest, token: str) -> Participant | HttpResponse:
    """The link's participant, or the answer to give instead: too many changes from this address, or a dead link."""
    if request.method == "POST" and not ratelimit.hit_by_address(ratelimit.MANAGE_POSTS_PER_IP, request):
        return _rate_limited(request, ratelimit.MANAGE_POSTS_PER_IP, practice=public_practice())
    participant = participant_for_token(token)
    return participant if participant is not None else _invalid_link(request)


@link_page(referrer="same-origin")
@require_http_methods(["GET", "HEAD", "POST"])
def booking_cancel(request: HttpRequest, token: str) -> HttpResponse:
    participant = _participant_for_change(request, token)
    if isinstance(participant, HttpResponse):
        return participant
    now = _now()
    zone = _participant_zone(participant)
    form = CancelForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                appointment_cancel(
                    actor=None, appointment=participant.appointment, by_client=True, message=form.cleaned_data["message"], now=now
                )
            except (PolicyRefused, ValidationError) as exc:
                error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                participant.appointment.refresh_from_db()
            else:
                messages.success(request, f"Your session is cancelled. {_who_is_told(participant.appointment)}")
                return _see_other(reverse("site:booking_manage", kwargs={"token": token}))
        status = 400
    context = {**_manage_context(participant, token, zone, now), "form": form, "error": error}
    return render(request, "site/booking_cancel.html", context, status=status)


@link_page(referrer="same-origin")
@require_http_methods(["GET", "HEAD", "POST"])
def booking_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    participant = _participant_for_change(request, token)
    if isinstance(participant, HttpResponse):
        return participant
    now = _now()
    appointment = participant.appointment
    source = request.POST if request.method == "POST" else request.GET
    zone = _zone_or(source.get("tz"), _participant_zone(participant))
    query = SlotQueryForm(request.GET, therapist_ids=[])
    query.is_valid()
    url = reverse("site:booking_reschedule", kwargs={"token": token})
    therapist = appointment.therapist
    error, status, region = "", 200, None
    form = RescheduleForm(request.POST if request.method == "POST" else None, initial={"tz": zone})
    if request.method == "POST":
        status = 400
        if form.is_valid():
            choice: SlotChoice = form.cleaned_data["slot"]
            if choice.therapist_id != therapist.public_id:
                form.add_error("slot", SLOT_UNREADABLE)
            else:
                try:
                    appointment_reschedule(
                        actor=None,
                        appointment=appointment,
                        new_start=choice.start,
                        by_client=True,
                        message=form.cleaned_data["message"],
                        now=now,
                    )
                except SlotUnavailable as exc:
                    error, status = str(exc), 409
                    nearest = _nearest(
                        service=appointment.service, therapist=therapist, pool=[], after=choice.start, now=now, moving=appointment
                    )
                    region = _alternatives_region(nearest, zone)
                except (PolicyRefused, ValidationError) as exc:
                    error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    appointment.refresh_from_db()
                else:
                    messages.success(
                        request,
                        f"Your session is moved to {_when(choice.start, zone)} ({zone}). {_who_is_told(appointment)}",
                    )
                    return _see_other(reverse("site:booking_manage", kwargs={"token": token}))
        if not error and form.errors:
            error = "Please choose one of the free times below." if "slot" in form.errors else "Nothing was moved. Please check the form."
    context = _manage_context(participant, token, zone, now)
    if region is None and context["rule"].allowed:
        region = _slot_region(
            url=url,
            params={"tz": zone},
            service=appointment.service,
            therapist=therapist,
            pool=[],
            zone=zone,
            asked_week=query.cleaned_data.get("week"),
            now=now,
            moving=appointment,
        )
        # The week and zone filters live in their own GET form above the POST form of the times.
        region["week_form"] = "slot-filters"
    if region is not None:
        region["carry_zone"] = True
    context.update({"form": form, "error": error, "region": region, "reschedule_url": url})
    return render_page_or_fragment(request, "site/booking_reschedule.html", "site/_slots.html", context, status=status)


# --- Privacy notice ----------------------------------------------------------------------------------


@require_safe
@_with_practice
def privacy(request: HttpRequest, practice: Practice) -> HttpResponse:
    return render(request, "site/privacy.html", {"practice": practice})
