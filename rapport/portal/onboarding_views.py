"""A client's first steps: accepting the invitation, then the intake form.

The welcome page is reached from the invitation email without an account, so its URL is a
credential: it is kept out of caches, search engines and referrers, and a link that cannot be used
gets one plain sentence saying why (404), never whose it was. The intake page works on the
signed-in client's own record only and takes no ids, so one partner can never reach the other's.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rapport.accounts.decorators import role_required
from rapport.accounts.forms import NewPasswordForm
from rapport.accounts.models import Role
from rapport.clients.intake import FIELDS, intake_own, intake_save
from rapport.clients.onboarding import client_invitation_accept, client_invitation_for_token
from rapport.core.link_pages import link_page
from rapport.portal.me import signed_in_client
from rapport.practice.services import InvitationInvalid


class WelcomeForm(NewPasswordForm):
    """The client's new password; the service checks it against the validators with their details."""


@require_http_methods(["GET", "POST"])
@link_page(referrer="same-origin")
def welcome(request: HttpRequest, token: str) -> HttpResponse:
    """A client sets the password of their new portal account from their invitation link."""
    if request.user.is_authenticated:
        # Checked before the token, so a signed-in visitor learns nothing about the link either way.
        return render(request, "portal/welcome_signed_in.html")
    try:
        invitation = client_invitation_for_token(token)
    except InvitationInvalid as exc:
        return render(request, "portal/welcome_invalid.html", {"reason": str(exc)}, status=404)
    form = WelcomeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = client_invitation_accept(token=token, password=form.cleaned_data["password1"])
            except InvitationInvalid as exc:
                return render(request, "portal/welcome_invalid.html", {"reason": str(exc)}, status=404)
            except ValidationError as exc:
                form.add_error("password1", exc)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, "Welcome. Your account is ready; here is what to do first.")
                return HttpResponseRedirect(reverse("portal:home"), status=303)
    context = {
        "form": form,
        "practice": invitation.practice,
        "email": invitation.client.email,
        "therapist": invitation.case.primary_therapist.display_name,
    }
    return render(request, "portal/welcome.html", context, status=status)


class IntakeForm(forms.Form):
    phone = forms.CharField(
        label=FIELDS["phone"][0],
        required=False,
        max_length=FIELDS["phone"][1],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    postal_address = forms.CharField(
        label=FIELDS["postal_address"][0],
        required=False,
        max_length=FIELDS["postal_address"][1],
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    emergency_name = forms.CharField(label="Their name", required=False, max_length=FIELDS["emergency_name"][1])
    emergency_phone = forms.CharField(
        label="Their phone", required=False, max_length=FIELDS["emergency_phone"][1], widget=forms.TextInput(attrs={"type": "tel"})
    )
    emergency_relationship = forms.CharField(
        label="How you know them",
        required=False,
        max_length=FIELDS["emergency_relationship"][1],
        help_text="For example: sister, friend, neighbour.",
    )
    what_brings_you = forms.CharField(
        label=FIELDS["what_brings_you"][0],
        max_length=FIELDS["what_brings_you"][1],
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="In your own words. A few sentences is plenty.",
        error_messages={"required": "Please tell us, in a few words of your own, what brings you."},
    )
    what_you_hope_for = forms.CharField(
        label=FIELDS["what_you_hope_for"][0],
        required=False,
        max_length=FIELDS["what_you_hope_for"][1],
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What would be different if therapy helped?",
    )

    CONTACT = ("phone", "postal_address")
    EMERGENCY = ("emergency_name", "emergency_phone", "emergency_relationship")
    OWN_WORDS = ("what_brings_you", "what_you_hope_for")

    def group(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        return [self[name] for name in names]

    @property
    def contact(self) -> list[forms.BoundField]:
        return self.group(self.CONTACT)

    @property
    def emergency(self) -> list[forms.BoundField]:
        return self.group(self.EMERGENCY)

    @property
    def own_words(self) -> list[forms.BoundField]:
        return self.group(self.OWN_WORDS)


@require_http_methods(["GET", "POST"])
@role_required([Role.CLIENT])
def intake(request: HttpRequest) -> HttpResponse:
    """The signed-in client's own intake form: shown filled in with what they sent, saved on POST."""
    user, client = signed_in_client(request)
    status = 200
    if request.method == "POST":
        form = IntakeForm(request.POST)
        if form.is_valid():
            try:
                intake_save(actor=user, client=client, **form.cleaned_data)
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                messages.success(request, "Thank you. Your answers are saved; you can change them here at any time.")
                return HttpResponseRedirect(reverse("portal:home"), status=303)
        # Shown again with what was typed, not what is stored: nothing of it is lost to a mistake.
        status, saved_at = 400, None
    else:
        existing = intake_own(user, client, request=request)
        form = IntakeForm(initial={name: getattr(existing, name) for name in FIELDS} if existing is not None else None)
        saved_at = existing.updated_at if existing is not None else None
    return render(request, "portal/intake.html", {"form": form, "saved_at": saved_at, "client": client}, status=status)
