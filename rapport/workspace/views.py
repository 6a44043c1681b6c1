from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES, Role, User
from rapport.audit.selectors import events_for_practice
from rapport.clients.selectors import case_get_for_user, case_members, case_read_for_user, cases_visible_to
from rapport.clients.services import case_update_summary
from rapport.core.htmx import render_page_or_fragment
from rapport.practice.models import Practice
from rapport.practice.selectors import invitation_pending_get, invitations_pending, services_offered, staff_member_get, staff_of
from rapport.practice.services import (
    InvitationInvalid,
    invitation_for_token,
    staff_invitation_accept,
    staff_invitation_revoke,
    staff_invite,
    staff_set_active,
)
from rapport.scheduling.calendar import appointments_on_day, therapist_of
from rapport.workspace.forms import AuditFilterForm, CaseSummaryForm, InvitationAcceptForm, StaffInviteForm


def _practice_of(user: User) -> Practice:
    if user.practice is None:
        raise PermissionDenied("Your account is not attached to a practice.")
    return user.practice


@require_safe
@role_required(STAFF_ROLES)
def home(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    context: dict[str, object] = {"practice": user.practice}
    if user.role == Role.THERAPIST:
        context["cases"] = cases_visible_to(user).filter(status__in=["consultation", "active"]).prefetch_related("members__client")
        therapist = therapist_of(user)
        context["today_appointments"] = appointments_on_day(therapist, timezone.now().astimezone(ZoneInfo(therapist.time_zone)).date())
    if user.role == Role.PRACTICE_ADMIN:
        practice = _practice_of(user)
        context["staff"] = staff_of(practice)
        context["services"] = services_offered(practice)
    return render(request, "workspace/home.html", context)


@require_safe
@role_required([Role.THERAPIST])
def case_list(request: HttpRequest) -> HttpResponse:
    cases = cases_visible_to(request.user).select_related("primary_therapist").prefetch_related("members__client")
    return render(request, "workspace/case_list.html", {"cases": cases})


@require_safe
@role_required(STAFF_ROLES)
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_read_for_user(request.user, case_id, request=request)
    return render(
        request,
        "workspace/case_detail.html",
        {"case": case, "members": case_members(case), "form": CaseSummaryForm(initial={"summary": case.summary})},
    )


@require_http_methods(["GET", "POST"])
@role_required(STAFF_ROLES)
def case_summary(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The therapist's working summary: shown, edited in place with htmx, or as a plain form post.

    A save is audited as one update (by the service); only showing the summary is audited as a read.
    """
    user = signed_in_user(request)
    if request.method == "POST":
        case = case_get_for_user(user, case_id)
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
        case = case_read_for_user(user, case_id, request=request)
        form = CaseSummaryForm(initial={"summary": case.summary})
        editing = request.GET.get("edit") == "1"
    context = {"case": case, "form": form, "editing": editing, "members": case_members(case)}
    return render_page_or_fragment(request, "workspace/case_detail.html", "workspace/_case_summary.html", context)


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
