"""Forms of the public booking flow, and the strict reading of a slot value.

A slot travels through the visitor's browser as ``<therapist>@<UTC start>``, e.g.
``any@2026-11-24T15:00Z`` or ``3f0c…@2026-11-24T15:00Z``. Anything else is refused outright rather
than guessed at: a value that does not match exactly was not one we offered.
"""

from __future__ import annotations

import functools
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.validators import RegexValidator

ANY_THERAPIST = "any"
_SLOT = re.compile(
    r"(?P<therapist>any|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"@(?P<start>\d{4}-\d{2}-\d{2}T\d{2}:\d{2})Z"
)
_SLOT_TIME = "%Y-%m-%dT%H:%M"
SLOT_UNREADABLE = "This time could not be read. Please choose a time from the list."


@dataclass(frozen=True)
class SlotChoice:
    """One offered start: a therapist (None: the first available one) and an aware UTC time."""

    therapist_id: uuid.UUID | None
    start: datetime

    @property
    def value(self) -> str:
        return slot_value(self.therapist_id, self.start)


def slot_value(therapist_id: uuid.UUID | None, start: datetime) -> str:
    who = ANY_THERAPIST if therapist_id is None else str(therapist_id)
    return f"{who}@{start.astimezone(UTC).strftime(_SLOT_TIME)}Z"


def parse_slot(value: str | None) -> SlotChoice | None:
    """The slot a value names, or None when it is not exactly in the form we write."""
    match = _SLOT.fullmatch(value or "")
    if match is None:
        return None
    try:
        start = datetime.strptime(match["start"], _SLOT_TIME).replace(tzinfo=UTC)
    except ValueError:  # e.g. 2026-02-30T25:00
        return None
    therapist = match["therapist"]
    return SlotChoice(therapist_id=None if therapist == ANY_THERAPIST else uuid.UUID(therapist), start=start)


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone this system knows, sorted: the choices of each time zone select."""
    return tuple(sorted(zoneinfo.available_timezones()))


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in time_zone_names()]


class SlotQueryForm(forms.Form):
    """The slot page's filters, read from the query string; anything unreadable falls back to defaults."""

    therapist = forms.ChoiceField(required=False)
    tz = forms.ChoiceField(required=False, choices=_time_zone_choices)
    week = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def __init__(self, *args: Any, therapist_ids: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        therapist_field = self.fields["therapist"]
        assert isinstance(therapist_field, forms.ChoiceField)
        therapist_field.choices = [(ANY_THERAPIST, ANY_THERAPIST), *((tid, tid) for tid in therapist_ids)]


class SlotField(forms.CharField):
    """A slot value, cleaned into a SlotChoice (or refused with one plain message)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 80)
        kwargs.setdefault("error_messages", {"required": "Please choose a time.", "max_length": SLOT_UNREADABLE})
        super().__init__(**kwargs)

    def clean(self, value: Any) -> SlotChoice:
        text = super().clean(value)
        choice = parse_slot(text)
        if choice is None:
            raise forms.ValidationError(SLOT_UNREADABLE, code="invalid_slot")
        return choice


_PHONE = RegexValidator(
    r"^\+?[0-9][0-9 ().\-/]{4,38}$", "Enter a phone number with digits, spaces and an optional leading +, or leave it empty."
)


class BookingDetailsForm(forms.Form):
    """Who is coming. The time arrives with the form (hidden, or as radios after a clash)."""

    slot = SlotField(widget=forms.HiddenInput)
    tz = forms.ChoiceField(choices=_time_zone_choices, widget=forms.HiddenInput, error_messages={"invalid_choice": "Unknown time zone."})
    name = forms.CharField(label="Your name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="Your confirmation and your link to change or cancel go here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Phone (optional)",
        required=False,
        max_length=40,
        validators=[_PHONE],
        help_text="Only used if the practice needs to reach you about this booking.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    reason = forms.CharField(
        label="What would you like help with? (optional)",
        required=False,
        max_length=1000,
        help_text="A sentence or two is plenty; at most 1000 characters. It is stored encrypted, for your therapist.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    partner_name = forms.CharField(label="Your partner's name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    partner_email = forms.EmailField(
        label="Your partner's email address",
        max_length=254,
        help_text="Your partner gets their own confirmation and their own link.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    privacy = forms.BooleanField(
        label="I have read the privacy notice and agree that the practice keeps these details for this booking.",
        error_messages={"required": "Please read and agree to the privacy notice to book."},
    )
    # The honeypot: hidden from sight and from the tab order; people leave it empty, form-filling
    # scripts tend not to.
    website = forms.CharField(
        label="Leave this empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, couple: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.couple = couple
        if not couple:
            del self.fields["partner_name"]
            del self.fields["partner_email"]

    def clean_website(self) -> str:
        value: str = self.cleaned_data.get("website", "")
        if value:
            raise forms.ValidationError("This field must stay empty. Please clear it and try again.", code="honeypot")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, partner_email = cleaned.get("email"), cleaned.get("partner_email")
        if self.couple and email and partner_email and email.strip().lower() == partner_email.strip().lower():
            self.add_error("partner_email", "Each partner needs their own email address, so that each gets their own link.")
        return cleaned


class _MessageField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label="A short message (optional)",
            required=False,
            max_length=500,
            help_text="Sent with the notice to your therapist and to anyone else booked for this session. At most 500 characters.",
            widget=forms.Textarea(attrs={"rows": 3}),
            **kwargs,
        )


class CancelForm(forms.Form):
    message = _MessageField()


class RescheduleForm(forms.Form):
    slot = SlotField()
    tz = forms.ChoiceField(required=False, choices=_time_zone_choices, widget=forms.HiddenInput)
    message = _MessageField()
