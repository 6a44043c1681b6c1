"""The therapist's calendar in the workspace: day and week, appointments, blocks, the phone feed.

Every page here is the signed-in therapist's own: the selectors in ``rapport.scheduling.calendar``
answer 404 for anyone else's appointment, and practice admins and supervisors are turned away
(403) before any lookup. Times are shown in the therapist's own time zone.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.core.htmx import render_page_or_fragment
from rapport.practice.models import Practice, ServiceKind, Therapist
from rapport.scheduling.calendar import (
    WEEK,
    appointment_can_be_no_show,
    appointment_can_change,
    appointment_get_for_user,
    appointment_people,
    appointment_read_audit,
    appointment_read_for_user,
    block_get_for_user,
    blocks_upcoming,
    calendar_grid,
    consultation_exceptions_of,
    feed_appointments,
    move_next_free_day,
    move_options,
    therapist_of,
)
from rapport.scheduling.diary import (
    calendar_feed_issue,
    calendar_feed_revoke,
    consultation_exception_grant,
    consultation_open_case,
    therapist_for_feed_token,
    time_block_add,
    time_block_remove,
)
from rapport.scheduling.ics import therapist_feed
from rapport.scheduling.models import Appointment, AppointmentStatus
from rapport.scheduling.services import (
    PolicyRefused,
    SlotUnavailable,
    appointment_cancel,
    appointment_mark_no_show,
    appointment_reschedule,
    video_url,
)
from rapport.workspace.calendar_forms import (
    BlockForm,
    CalendarQueryForm,
    CancelForm,
    ConsultationExceptionForm,
    FeedForm,
    MoveDayForm,
    MoveForm,
    OpenCaseForm,
)

THERAPISTS = [Role.THERAPIST]


def _render(request: HttpRequest, therapist: Therapist, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    # Templates print times through Django's date filters, which use the active zone.
    with timezone.override(ZoneInfo(therapist.time_zone)):
        return render(request, template, {"therapist": therapist, **context}, status=status)


def _first_message(exc: ValidationError | PolicyRefused) -> str:
    return exc.messages[0] if isinstance(exc, ValidationError) else str(exc)


def _calendar_url(day: Any, view: str = WEEK) -> str:
    return f"{reverse('workspace:calendar')}?{urlencode({'date': day.isoformat(), 'view': view})}"


# --- Calendar ----------------------------------------------------------------------------------------


@require_safe
@role_required(THERAPISTS)
def calendar(request: HttpRequest) -> HttpResponse:
    therapist = therapist_of(signed_in_user(request))
    now = timezone.now()
    today = now.astimezone(ZoneInfo(therapist.time_zone)).date()
    query = CalendarQueryForm(request.GET)
    problem = ""
    if query.is_valid():
        anchor = query.cleaned_data["date"] or today
        view = query.cleaned_data["view"] or WEEK
    else:
        anchor, view = today, WEEK
        problem = "That date could not be read, so this is the current week."
    grid = calendar_grid(therapist, anchor=anchor, view=view, now=now)
    picker = CalendarQueryForm(initial={"date": anchor, "view": view})
    return _render(request, therapist, "workspace/calendar.html", {"grid": grid, "picker": picker, "problem": problem, "now": now})


# --- One appointment ----------------------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    appointment: Appointment,
    *,
    status: int = 200,
    cancel_form: CancelForm | None = None,
    open_case_form: OpenCaseForm | None = None,
    error: str = "",
) -> HttpResponse:
    """The appointment's page. Callers have audited the read, or do so through ``_detail_after_refusal``."""
    now = timezone.now()
    therapist = appointment.therapist
    can_open_case = (
        appointment.service.kind == ServiceKind.CONSULTATION
        and appointment.case_id is None
        and appointment.status != AppointmentStatus.CANCELLED
        and bool(appointment.contact_email)
    )
    context = {
        "appointment": appointment,
        "people": appointment_people(appointment),
        "participants": list(appointment.participants.order_by("id")),
        "video": video_url(appointment),
        "case_link": appointment.case is not None and appointment.case.primary_therapist_id == therapist.pk,
        "can_change": appointment_can_change(appointment, now),
        "can_no_show": appointment_can_be_no_show(appointment, now),
        "can_open_case": can_open_case,
        "cancel_form": cancel_form or CancelForm(auto_id="cancel-%s"),
        "open_case_form": open_case_form or OpenCaseForm(auto_id="open-case-%s"),
        "error": error,
        "calendar_url": _calendar_url(appointment.start.astimezone(ZoneInfo(therapist.time_zone)).date()),
    }
    return _render(request, therapist, "workspace/appointment_detail.html", context, status=status)


def _detail_after_refusal(request: HttpRequest, appointment: Appointment, **kwargs: Any) -> HttpResponse:
    """Show the page again with what went wrong; it shows the booking details, so that is a read too."""
    appointment = appointment_get_for_user(signed_in_user(request), appointment.public_id)
    appointment_read_audit(signed_in_user(request), appointment, request=request)
    return _detail(request, appointment, status=400, **kwargs)


@require_safe
@role_required(THERAPISTS)
def appointment_detail(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appointment = appointment_read_for_user(signed_in_user(request), appointment_id, request=request)
    return _detail(request, appointment)


def _told(appointment: Appointment, message: str) -> str:
    people = [p.name for p in appointment.participants.filter(revoked_at__isnull=True).order_by("id")]
    who = " and ".join(people) if people else "nobody besides you (the booking has no contact)"
    return f"An email {'with your message ' if message else ''}is on its way to {who}, with a copy to you."


@require_POST
@role_required(THERAPISTS)
def appointment_cancel_view(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    appointment = appointment_get_for_user(user, appointment_id)
    form = CancelForm(request.POST, auto_id="cancel-%s")
    if form.is_valid():
        message = form.cleaned_data["message"].strip()
        try:
            appointment_cancel(actor=user, appointment=appointment, by_client=False, message=message)
        except (ValidationError, PolicyRefused) as exc:
            form.add_error(None, _first_message(exc))
        else:
            messages.success(request, f"The session is cancelled. {_told(appointment, message)}")
            return redirect("workspace:appointment_detail", appointment_id=appointment.public_id)
    return _detail_after_refusal(request, appointment, cancel_form=form)


@require_POST
@role_required(THERAPISTS)
def appointment_no_show(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    appointment = appointment_get_for_user(user, appointment_id)
    try:
        appointment_mark_no_show(actor=user, appointment=appointment)
    except ValidationError as exc:
        return _detail_after_refusal(request, appointment, error=_first_message(exc))
    messages.success(request, "The session is marked as a no-show.")
    return redirect("workspace:appointment_detail", appointment_id=appointment.public_id)


@require_POST
@role_required(THERAPISTS)
def consultation_open_case_view(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    appointment = appointment_get_for_user(user, appointment_id)
    form = OpenCaseForm(request.POST, auto_id="open-case-%s")
    if form.is_valid():
        try:
            case = consultation_open_case(actor=user, appointment=appointment)
        except ValidationError as exc:
            form.add_error(None, _first_message(exc))
        else:
            messages.success(request, f"A client record and case are open for {appointment_people(appointment)}.")
            return redirect("workspace:case_detail", case_id=case.public_id)
    return _detail_after_refusal(request, appointment, open_case_form=form)


@require_http_methods(["GET", "POST"])
@role_required(THERAPISTS)
def appointment_move(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Pick a free time on a day (GET, also as an htmx fragment), then move with a message (POST)."""
    user = signed_in_user(request)
    appointment = appointment_get_for_user(user, appointment_id)
    zone = ZoneInfo(appointment.therapist.time_zone)
    now = timezone.now()
    status = 200
    if request.method == "POST":
        form = MoveForm(request.POST)
        day_form = MoveDayForm(request.POST)
        if form.is_valid():
            message = form.cleaned_data["message"].strip()
            try:
                moved = appointment_reschedule(
                    actor=user, appointment=appointment, new_start=form.cleaned_data["new_start"], by_client=False, message=message, now=now
                )
            except SlotUnavailable as exc:
                form.add_error("new_start", f"{exc} The list below shows the times that are free now.")
            except (ValidationError, PolicyRefused) as exc:
                form.add_error(None, _first_message(exc))
            else:
                local = moved.start.astimezone(zone)
                messages.success(request, f"The session now starts {local:%A} {local.day} {local:%B at %H:%M}. {_told(moved, message)}")
                return redirect("workspace:appointment_detail", appointment_id=appointment.public_id)
        status = 400
    else:
        form = MoveForm()
        day_form = MoveDayForm(request.GET)
    default_day = max(appointment.start, now).astimezone(zone).date()
    day = (day_form.cleaned_data.get("date") if day_form.is_valid() else None) or default_day
    can_change = appointment_can_change(appointment, now)
    options = move_options(appointment, day, now=now) if can_change else []
    context = {
        "therapist": appointment.therapist,
        "appointment": appointment,
        "people": appointment_people(appointment),
        "form": form,
        "day": day,
        "day_form": MoveDayForm(initial={"date": day}),
        "day_problem": "" if day_form.is_valid() else "That date could not be read.",
        "options": [(start.isoformat(), start) for start in options],
        "chosen": request.POST.get("new_start", "") if request.method == "POST" else "",
        "next_free": None if options or not can_change else move_next_free_day(appointment, day, now=now),
        "can_change": can_change,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
    }
    with timezone.override(zone):
        return render_page_or_fragment(
            request, "workspace/appointment_move.html", "workspace/appointment_move_times.html", context, status=status
        )


# --- Blocks -----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(THERAPISTS)
def block_add(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    therapist = therapist_of(user)
    now = timezone.now()
    status = 200
    if request.method == "POST":
        form = BlockForm(request.POST, time_zone=therapist.time_zone)
        if form.is_valid():
            data = form.cleaned_data
            try:
                time_block_add(actor=user, therapist=therapist, start=data["start"], end=data["end"], label=data["label"], now=now)
            except ValidationError as exc:
                form.add_error(None, _first_message(exc))
            else:
                messages.success(request, "The time is blocked: nobody can book it now.")
                return redirect(_calendar_url(data["day"]))
        status = 400
    else:
        query = CalendarQueryForm(request.GET)
        day = (query.cleaned_data.get("date") if query.is_valid() else None) or now.astimezone(ZoneInfo(therapist.time_zone)).date()
        form = BlockForm(initial={"day": day}, time_zone=therapist.time_zone)
    return _render(
        request, therapist, "workspace/block_add.html", {"form": form, "blocks": blocks_upcoming(therapist, now=now)}, status=status
    )


@require_POST
@role_required(THERAPISTS)
def block_remove(request: HttpRequest, block_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    block = block_get_for_user(user, block_id)
    day = block.start.astimezone(ZoneInfo(block.therapist.time_zone)).date()
    time_block_remove(actor=user, block=block)
    messages.success(request, f"The block{' “' + block.label + '”' if block.label else ''} is removed; that time can be booked again.")
    return redirect(_calendar_url(day))


# --- The private feed --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(THERAPISTS)
@reauthentication_required(allow_get=True)
def calendar_feed(request: HttpRequest) -> HttpResponse:
    """Issue, replace or turn off the feed address. A new address is shown once, on this response only."""
    user = signed_in_user(request)
    therapist = therapist_of(user)
    feed_url = ""
    status = 200
    if request.method == "POST":
        form = FeedForm(request.POST)
        if not form.is_valid():
            status = 400
        elif form.cleaned_data["action"] == "revoke":
            calendar_feed_revoke(actor=user, therapist=therapist)
            messages.success(request, "The feed is off. Its address no longer works.")
            return redirect("workspace:calendar_feed")
        else:
            token = calendar_feed_issue(actor=user, therapist=therapist)
            feed_url = request.build_absolute_uri(reverse("workspace:calendar_feed_ics", kwargs={"token": token}))
    context = {"feed_active": bool(therapist.calendar_token_hash), "feed_url": feed_url, "invalid": status == 400}
    response = _render(request, therapist, "workspace/calendar_feed.html", context, status=status)
    # The address is a credential: never send it on to another site in a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The phone calendar's subscription: no sign-in, the token in the URL is the credential."""
    therapist = therapist_for_feed_token(token)
    if therapist is None:
        return _private(HttpResponse("No calendar at this address.", status=404, content_type="text/plain; charset=utf-8"))
    body = therapist_feed(
        feed_appointments(therapist, now=timezone.now()), calendar_name=f"{therapist.practice.name} · {therapist.display_name}"
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="rapport.ics"'
    return _private(response)


# --- Practice admin: consultation exceptions ------------------------------------------------------------------


def _practice_of(request: HttpRequest) -> Practice:
    practice = signed_in_user(request).practice
    if practice is None:
        raise PermissionDenied("Your account is not attached to a practice.")
    return practice


@require_http_methods(["GET", "POST"])
@role_required([Role.PRACTICE_ADMIN])
def consultation_exceptions(request: HttpRequest) -> HttpResponse:
    """Allow an email address one more free consultation than the once-per-person rule gives."""
    practice = _practice_of(request)
    form = ConsultationExceptionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                granted = consultation_exception_grant(
                    actor=signed_in_user(request), practice=practice, email=form.cleaned_data["email"], note=form.cleaned_data["note"]
                )
            except ValidationError as exc:
                form.add_error("email", _first_message(exc))
            else:
                messages.success(request, f"{granted.email} may book one more free consultation.")
                return redirect("workspace:consultation_exceptions")
        status = 400
    with timezone.override(ZoneInfo(practice.time_zone)):
        return render(
            request,
            "workspace/consultation_exceptions.html",
            {"form": form, "exceptions": consultation_exceptions_of(practice)},
            status=status,
        )
