from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES, Role, User
from rapport.audit.models import Action
from rapport.audit.selectors import events_for_practice
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, CaseKind, CaseMember, CaseStatus, Client
from rapport.clients.onboarding import PortalAccess, portal_access_of
from rapport.clients.selectors import case_get_for_user, case_members, case_read_for_user, cases_visible_to
from rapport.clients.services import case_update_summary
from rapport.consents.models import ItemDecision, Signature
from rapport.consents.records import signature_pdf_export, signature_record
from rapport.consents.selectors import (
    decision_history,
    newest_per_item,
    signature_in_case,
    signatures_of,
    withdrawals_by_item_for,
)
from rapport.consents.services import CHECK_INS, TREATMENT
from rapport.core.downloads import private_attachment
from rapport.core.htmx import render_page_or_fragment
from rapport.insights.briefing import SessionCheckins, session_checkins
from rapport.insights.selectors import open_signal_counts
from rapport.practice.models import Practice, Service, ServiceKind, Therapist
from rapport.practice.selectors import invitation_pending_get, invitations_pending, services_offered, staff_member_get, staff_of
from rapport.practice.services import (
    InvitationInvalid,
    invitation_for_token,
    staff_invitation_accept,
    staff_invitation_revoke,
    staff_invite,
    staff_set_active,
)
from rapport.scheduling.calendar import appointments_on_day, free_starts_on_day, next_free_day, therapist_of
from rapport.scheduling.models import Appointment
from rapport.scheduling.services import SlotUnavailable, appointment_book, start_taken
from rapport.workspace.alert_views import open_alert_rows
from rapport.workspace.calendar_forms import BookForm, MoveDayForm
from rapport.workspace.forms import AuditFilterForm, CaseSummaryForm, InvitationAcceptForm, StaffInviteForm
from rapport.workspace.named_cases import named_case_get


def _practice_of(user: User) -> Practice:
    if user.practice is None:
        raise PermissionDenied("Your account is not attached to a practice.")
    return user.practice


@require_safe
@role_required(STAFF_ROLES)
def home(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    context: dict[str, object] = {"open_alerts": open_alert_rows(user)}
    zone = None
    if user.role == Role.THERAPIST:
        therapist = therapist_of(user)
        # The therapist's row comes with their practice: reuse it here and in the base template
        # rather than asking the database for the same practice again (the page's query budget).
        user.practice = therapist.practice
        zone = therapist.time_zone
        context["cases"] = cases_visible_to(user).filter(status__in=["consultation", "active"]).prefetch_related("members__client")
        today = appointments_on_day(therapist, timezone.now().astimezone(ZoneInfo(therapist.time_zone)).date())
        context["today_appointments"] = today
        context["today_rows"] = _today_rows(today, therapist)
        # One query for both lists (the page's query budget).
        withdrawn = withdrawals_by_item_for(therapist, (TREATMENT, CHECK_INS))
        context["treatment_withdrawals"] = withdrawn[TREATMENT]
        context["check_in_pauses"] = withdrawn[CHECK_INS]
    if user.role == Role.PRACTICE_ADMIN:
        practice = _practice_of(user)
        context["staff"] = staff_of(practice)
        context["services"] = services_offered(practice)
    context["practice"] = user.practice
    context["alert_zone"] = zone or (user.practice.time_zone if user.practice else "UTC")
    return render(request, "workspace/home.html", context)


@dataclass(frozen=True)
class TodayRow:
    """One of today's sessions with its badges: numbers only, no clinical words."""

    appointment: Appointment
    briefing: bool  # a session of a case has a briefing; a consultation without one does not
    open_signals: int
    checkins: SessionCheckins | None  # None: no check-in was asked before this session


def _today_rows(appointments: list[Appointment], therapist: Therapist) -> list[TodayRow]:
    if not appointments:
        return []
    # Two queries for the whole day, whatever its length (the page's query budget). A session of a
    # case someone else treats has no briefing here (it would answer 404) and no badges.
    cases = {
        appointment.case_id: appointment.case
        for appointment in appointments
        if appointment.case is not None and appointment.case.primary_therapist_id == therapist.pk
    }
    signals = open_signal_counts(list(cases.values()))
    checkins = session_checkins(appointments)
    return [
        TodayRow(
            appointment=appointment,
            briefing=appointment.case_id in cases,
            open_signals=signals.get(appointment.case_id, 0) if appointment.case_id is not None and appointment.case_id in cases else 0,
            checkins=checkins.get(appointment.pk),
        )
        for appointment in appointments
    ]


@require_safe
@role_required([Role.THERAPIST])
def case_list(request: HttpRequest) -> HttpResponse:
    cases = cases_visible_to(request.user).select_related("primary_therapist").prefetch_related("members__client")
    return render(request, "workspace/case_list.html", {"cases": cases})


@dataclass(frozen=True)
class ClientConsents:
    """One client's consents as the case page shows them: where each item stands, and how it got there."""

    client: Client
    current: list[ItemDecision]
    history: list[ItemDecision]
    signatures: list[Signature]


def _consents_of(user: User, case: Case, members: Iterable[CaseMember]) -> list[ClientConsents] | None:
    # Only the case's own therapist: a supervisor reading the case has no business with the
    # client's choices about anything but supervision, which its own gate already checks.
    if case.primary_therapist.user_id != user.pk:
        return None
    shown = []
    for member in members:
        history = list(decision_history(member.client))
        current = sorted(newest_per_item(history).values(), key=lambda d: (d.item.position, d.item_key))
        signatures = list(signatures_of(member.client))
        shown.append(ClientConsents(client=member.client, current=current, history=history, signatures=signatures))
    return shown


def _portal_access(user: User, case: Case) -> list[PortalAccess] | None:
    # Inviting and reading intakes are the case's own therapist's business only.
    return portal_access_of(case) if case.primary_therapist.user_id == user.pk else None


@require_safe
@role_required(STAFF_ROLES)
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    case = named_case_get(user, case_id, request=request)
    members = case_members(case)
    return render(
        request,
        "workspace/case_detail.html",
        {
            "case": case,
            "members": members,
            "form": CaseSummaryForm(initial={"summary": case.summary}),
            "consents": _consents_of(user, case, members),
            "portal_access": _portal_access(user, case),
        },
    )


@require_safe
@role_required(STAFF_ROLES)
def case_signature_pdf(request: HttpRequest, case_id: uuid.UUID, signature_id: uuid.UUID) -> HttpResponse:
    """A client's signature as a PDF, for the therapist of the case; audited against that client.

    Whoever may not see the case is turned away by the case selector (404 or 403); a signature
    that is not by one of the case's clients is 404.
    """
    user = signed_in_user(request)
    case = named_case_get(user, case_id)
    if case.primary_therapist.user_id != user.pk:
        raise PermissionDenied("Only the case's therapist downloads its clients' signatures.")
    signature = signature_in_case(case, signature_id)
    if signature is None:
        raise Http404("No such signature in this case.")
    record = signature_record(signature)
    pdf = signature_pdf_export(actor=user, record=record, request=request)
    return private_attachment(pdf, content_type="application/pdf", filename=record.filename)


@require_http_methods(["GET", "POST"])
@role_required(STAFF_ROLES)
def case_summary(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The therapist's working summary: shown, edited in place with htmx, or as a plain form post.

    A save is audited as one update (by the service); only showing the summary is audited as a read.
    """
    user = signed_in_user(request)
    if request.method == "POST":
        case = named_case_get(user, case_id)
        form = CaseSummaryForm(request.POST)
        if form.is_valid():
            case_update_summary(actor=user, case=case, summary=form.cleaned_data["summary"])
            if not getattr(request, "htmx", False):
                messages.success(request, "Summary saved.")
                return redirect("workspace:case_detail", case_id=case.public_id)
            editing = False
        else:
            editing = True
    else:
        case = named_case_get(user, case_id, request=request)
        form = CaseSummaryForm(initial={"summary": case.summary})
        editing = request.GET.get("edit") == "1"
    members = case_members(case)
    context = {"case": case, "form": form, "editing": editing, "members": members}
    if not getattr(request, "htmx", False):
        context["consents"] = _consents_of(user, case, members)
        context["portal_access"] = _portal_access(user, case)
    return render_page_or_fragment(request, "workspace/case_detail.html", "workspace/_case_summary.html", context)


# --- Booking a session for a case --------------------------------------------------------------------

_SERVICE_FOR_CASE = {CaseKind.INDIVIDUAL: ServiceKind.INDIVIDUAL, CaseKind.COUPLE: ServiceKind.COUPLE}
_NOT_LISTED = "That is not one of the free times. Choose one from the list."


def _booking_problem(case: Case, service: Service | None) -> str:
    if case.status == CaseStatus.CLOSED:
        return "This case is closed: open a new case to book sessions again."
    if service is None:
        return f"The practice offers no {'couples' if case.kind == CaseKind.COUPLE else 'individual'} session to book."
    return ""


def _book_posted(user: User, case: Case, service: Service, form: BookForm, *, now: datetime) -> tuple[Appointment | None, int]:
    """Book the posted time if it is one of the free times; else the form carries why, with the status to answer."""
    if not form.is_valid():
        return None, 400
    therapist = case.primary_therapist
    start = form.cleaned_data["new_start"]
    if start <= now:
        form.add_error("new_start", "That time has passed. Choose one of the free times.")
        return None, 400
    if start not in free_starts_on_day(therapist, service, start.astimezone(ZoneInfo(therapist.time_zone)).date(), now=now):
        # Taken since the list was shown is a conflict; never on the list is a bad request.
        if start_taken(therapist, service, start):
            form.add_error("new_start", f"{SlotUnavailable()} The list below shows the times that are free now.")
            return None, 409
        form.add_error("new_start", _NOT_LISTED)
        return None, 400
    try:
        return appointment_book(actor=user, therapist=therapist, service=service, start=start, case=case, now=now), 200
    except SlotUnavailable as exc:
        form.add_error("new_start", f"{exc} The list below shows the times that are free now.")
        return None, 409
    except ValidationError as exc:
        form.add_error(None, exc.messages[0])
        return None, 400


@require_http_methods(["GET", "POST"])
@role_required([Role.THERAPIST])
def case_book(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Pick a day and one of its free times (GET, also as an htmx fragment), then book it (POST).

    The times offered are the ones the booking service itself accepts (``free_starts``), for the
    practice's individual or couples session as the case is. A posted time must be one of them:
    one taken since it was offered is a conflict (409), anything else a bad request (400), and
    nothing is saved either way.
    """
    user = signed_in_user(request)
    posted = request.method == "POST"
    case = case_get_for_user(user, case_id) if posted else case_read_for_user(user, case_id, request=request)
    therapist = case.primary_therapist
    zone = ZoneInfo(therapist.time_zone)
    now = timezone.now()
    today = now.astimezone(zone).date()
    service = services_offered(case.practice).filter(kind=_SERVICE_FOR_CASE[CaseKind(case.kind)]).order_by("sort_order", "name").first()
    problem = _booking_problem(case, service)
    day_form = MoveDayForm(request.POST if posted else request.GET)
    day: date | None = day_form.cleaned_data.get("date") if day_form.is_valid() else None
    form = BookForm(request.POST if posted else None)
    status = 200
    if posted:
        if problem or service is None:
            form.add_error(None, problem)
            status = 400
        else:
            if form.is_valid() and form.cleaned_data["new_start"] > now:
                # Shown again, the page lists the times of the day that was asked for.
                day = form.cleaned_data["new_start"].astimezone(zone).date()
            booked, status = _book_posted(user, case, service, form, now=now)
            if booked is not None:
                local = booked.start.astimezone(zone)
                count = len(case_members(case))
                told = "The clients will get a confirmation email." if count > 1 else "The client will get a confirmation email."
                messages.success(request, f"Booked {service.name} on {local:%A} {local.day} {local:%B at %H:%M}. {told}")
                # 303: the browser fetches the session with GET, and a reload does not book again.
                return HttpResponseRedirect(
                    reverse("workspace:appointment_detail", kwargs={"appointment_id": booked.public_id}), status=303
                )
        # The page shown again names the case's clients: a read of the case like any other.
        case_audit(actor=user, action=Action.VIEW, case=case, request=request)
    options: list[datetime] = []
    next_free: date | None = None
    if service is not None and not problem:
        day = day or next_free_day(therapist, service, today - timedelta(days=1), now=now) or today
        options = free_starts_on_day(therapist, service, day, now=now)
        if not options:
            next_free = next_free_day(therapist, service, day, now=now)
    day = day or today
    context = {
        "case": case,
        "therapist": therapist,
        "service": service,
        "members": case_members(case),
        "problem": problem,
        "form": form,
        "day": day,
        "day_form": MoveDayForm(initial={"date": day}),
        "day_problem": "" if day_form.is_valid() else "That date could not be read.",
        "options": [(start.isoformat(), start) for start in options],
        "chosen": request.POST.get("new_start", "") if posted else "",
        "next_free": next_free,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
    }
    with timezone.override(zone):
        return render_page_or_fragment(request, "workspace/case_book.html", "workspace/appointment_move_times.html", context, status=status)


@require_safe
@role_required([Role.PRACTICE_ADMIN])
def staff(request: HttpRequest) -> HttpResponse:
    practice = _practice_of(signed_in_user(request))
    return render(
        request,
        "workspace/staff.html",
        {"staff": staff_of(practice), "invitations": invitations_pending(practice), "form": StaffInviteForm()},
    )


@require_http_methods(["POST"])
@role_required([Role.PRACTICE_ADMIN])
@reauthentication_required
def staff_invite_create(request: HttpRequest) -> HttpResponse:
    form = StaffInviteForm(request.POST)
    practice = _practice_of(signed_in_user(request))
    if form.is_valid():
        try:
            issued = staff_invite(actor=signed_in_user(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            link = request.build_absolute_uri(reverse("workspace:invitation_accept", kwargs={"token": issued.token}))
            send_mail(
                subject=f"You are invited to join {practice.name} on Rapport",
                message=f"Hello {issued.invitation.full_name},\n\nSet up your account here (valid for 7 days, single use):\n{link}\n",
                from_email=None,
                recipient_list=[issued.invitation.email],
            )
            messages.success(request, f"Invitation sent to {issued.invitation.email}.")
            return redirect("workspace:staff")
    return render(
        request,
        "workspace/staff.html",
        {"staff": staff_of(practice), "invitations": invitations_pending(practice), "form": form},
        status=400,
    )


@require_http_methods(["POST"])
@role_required([Role.PRACTICE_ADMIN])
@reauthentication_required
def staff_access(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    """Deactivate (active=0) or reactivate (active=1) a staff member of the admin's practice."""
    actor = signed_in_user(request)
    member = staff_member_get(_practice_of(actor), user_id)
    if request.POST.get("active") not in {"0", "1"}:
        messages.error(request, "Choose whether to deactivate or reactivate the account.")
        return redirect("workspace:staff")
    active = request.POST["active"] == "1"
    try:
        staff_set_active(actor=actor, member=member, active=active)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request,
            f"{member.full_name} can sign in again." if active else f"{member.full_name} can no longer sign in; their sessions have ended.",
        )
    return redirect("workspace:staff")


@require_http_methods(["POST"])
@role_required([Role.PRACTICE_ADMIN])
def staff_invitation_revoke_view(request: HttpRequest, invitation_id: uuid.UUID) -> HttpResponse:
    actor = signed_in_user(request)
    invitation = invitation_pending_get(_practice_of(actor), invitation_id)
    staff_invitation_revoke(actor=actor, invitation=invitation)
    messages.success(request, f"The invitation for {invitation.email} was withdrawn; its link no longer works.")
    return redirect("workspace:staff")


@require_safe
@role_required([Role.PRACTICE_ADMIN])
def audit_trail(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    action = form.cleaned_data.get("action", "") if form.is_valid() else ""
    events = events_for_practice(_practice_of(signed_in_user(request)), action=action or None)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "workspace/audit_trail.html", {"page": page, "form": form, "action": action})


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """A staff member sets up their account from an invitation link (single use, 7 days)."""
    try:
        invitation = invitation_for_token(token)
    except InvitationInvalid as exc:
        response = render(request, "workspace/invitation_invalid.html", {"reason": str(exc)}, status=404)
        response["Referrer-Policy"] = "no-referrer"
        return response
    form = InvitationAcceptForm(request.POST or None, email=invitation.email, initial={"full_name": invitation.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            user = staff_invitation_accept(token=token, full_name=form.cleaned_data["full_name"], password=form.cleaned_data["password1"])
        except (InvitationInvalid, ValidationError) as exc:
            form.add_error(None, str(exc.messages[0] if isinstance(exc, ValidationError) else exc))
        else:
            # Signing in here also records the fresh password entry (see rapport.accounts.signals),
            # so the second-factor setup that follows does not ask for the password again.
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome. One more step: set up your second factor.")
            return redirect("mfa_activate_totp")
    response = render(request, "workspace/invitation_accept.html", {"form": form, "invitation": invitation})
    # The token is in this page's URL: never leak it to another site (ASVS 5.0 14.2.1).
    response["Referrer-Policy"] = "no-referrer"
    return response
