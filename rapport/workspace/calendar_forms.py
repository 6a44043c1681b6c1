"""Forms of the therapist's calendar. They read and check input; the services decide what is allowed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from rapport.scheduling.calendar import DAY, WEEK
from rapport.scheduling.diary import BLOCK_LABEL_MAX, EXCEPTION_NOTE_MAX

MESSAGE_MAX = 2000
# Far enough for any diary, near enough that date arithmetic never overflows.
_EARLIEST = date(2000, 1, 1)
_LATEST = date(2100, 12, 31)
# The forms below have a field called "date", which hides the type inside their class bodies.
_Date = date


def _check_range(value: date | None) -> date | None:
    if value is not None and not _EARLIEST <= value <= _LATEST:
        raise forms.ValidationError("Choose a date between 2000 and 2100.")
    return value


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class CalendarQueryForm(forms.Form):
    """``?date=YYYY-MM-DD&view=day|week``; anything unreadable falls back to today's week."""

    date = forms.DateField(label="Go to date", required=False, widget=DateInput(), input_formats=["%Y-%m-%d"])
    view = forms.ChoiceField(label="View", required=False, choices=[(WEEK, "Week"), (DAY, "Day")])

    def clean_date(self) -> _Date | None:
        return _check_range(self.cleaned_data.get("date"))


def _local(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The aware instant of a wall-clock time, or None when the clocks skip it that day."""
    moment = datetime.combine(day, at, tzinfo=zone)
    round_trip = moment.astimezone(UTC).astimezone(zone)
    return moment if round_trip.replace(tzinfo=None) == moment.replace(tzinfo=None) else None


class BlockForm(forms.Form):
    """A block in the therapist's own wall-clock time; ``start`` and ``end`` come out aware."""

    day = forms.DateField(label="Date", widget=DateInput(), input_formats=["%Y-%m-%d"])
    start_time = forms.TimeField(label="From", widget=TimeInput(), input_formats=["%H:%M", "%H:%M:%S"])
    end_time = forms.TimeField(label="Until", widget=TimeInput(), input_formats=["%H:%M", "%H:%M:%S"])
    end_day = forms.DateField(
        label="Until date",
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text="Only for a block that runs over several days; leave empty for the same day.",
    )
    label = forms.CharField(
        label="Label",
        required=False,
        max_length=BLOCK_LABEL_MAX,
        help_text="For you only, e.g. “Supervision” or “Lunch”. No client details, please: it appears in your calendar.",
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(time_zone)

    def clean_day(self) -> date | None:
        return _check_range(self.cleaned_data.get("day"))

    def clean_end_day(self) -> date | None:
        return _check_range(self.cleaned_data.get("end_day"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, start_time, end_time = cleaned.get("day"), cleaned.get("start_time"), cleaned.get("end_time")
        if day is None or start_time is None or end_time is None:
            return cleaned
        end_day = cleaned.get("end_day") or day
        start = _local(day, start_time, self.zone)
        end = _local(end_day, end_time, self.zone)
        if start is None:
            self.add_error("start_time", "The clocks skip this time on that day. Choose another.")
        if end is None:
            self.add_error("end_time", "The clocks skip this time on that day. Choose another.")
        if start is not None and end is not None:
            if end <= start:
                self.add_error("end_time", "The block must end after it starts.")
            cleaned["start"], cleaned["end"] = start, end
        return cleaned


class MessageField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MESSAGE_MAX)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4}))
        super().__init__(**kwargs)


class CancelForm(forms.Form):
    message = MessageField(
        label="Message to the client",
        help_text="Sent with the cancellation email. Optional; it is stored encrypted.",
    )


class MoveForm(forms.Form):
    """The new start is an ISO 8601 instant, as the list of free times gives it."""

    new_start = forms.CharField(label="New time", max_length=40)
    message = MessageField(
        label="Message to the client",
        help_text="Sent with the email about the new time. Optional; it is stored encrypted.",
    )

    def clean_new_start(self) -> datetime:
        raw = self.cleaned_data["new_start"]
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise forms.ValidationError("Choose one of the free times.") from None
        if value.tzinfo is None:
            raise forms.ValidationError("Choose one of the free times.")
        return value.astimezone(UTC)


class BookForm(forms.Form):
    """The start exactly as the list of free times gives it: an ISO 8601 instant in UTC.

    Anything else (another offset, a date without a time, a naive time) did not come from the
    list, so it is refused rather than guessed at.
    """

    new_start = forms.CharField(label="Time", max_length=40, error_messages={"required": "Choose one of the free times."})

    def clean_new_start(self) -> datetime:
        raw = self.cleaned_data["new_start"]
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise forms.ValidationError("That is not a time from the list. Choose one of the free times.") from None
        if "T" not in raw or value.utcoffset() != timedelta(0):
            raise forms.ValidationError("That is not a time from the list. Choose one of the free times.")
        return value.astimezone(UTC)


class MoveDayForm(forms.Form):
    date = forms.DateField(label="Day to look at", required=False, widget=DateInput(), input_formats=["%Y-%m-%d"])

    def clean_date(self) -> _Date | None:
        return _check_range(self.cleaned_data.get("date"))


class OpenCaseForm(forms.Form):
    agreed = forms.BooleanField(
        label="The person has agreed to become a client of the practice",
        error_messages={"required": "Tick the box to confirm that the person has agreed."},
    )


class FeedForm(forms.Form):
    action = forms.ChoiceField(choices=[("issue", "Create a new address"), ("revoke", "Turn the feed off")])


class ConsultationExceptionForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=EXCEPTION_NOTE_MAX,
        help_text="Why the exception was made, for the practice's own records. No clinical details.",
    )
