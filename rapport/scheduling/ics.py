"""Calendar data for appointments (RFC 5545, made with ``icalendar``): email invites and the therapist's feed.

Plain functions: Django models in, ``bytes`` out. They never write, never audit and never read
clinical text. What a calendar entry may carry is decided here, in one place:

- the service's name, the practice's name, the time (UTC), the video link or the practice name as
  the location, the practice's contact email as organizer, and the link the caller passes in;
- in the therapist's own feed, also the clients' initials.

Never the case summary, a consultation's reason, a contact's name or email, or any other clinical
text: calendar data leaves the practice (mail providers, phone calendars, shared calendars).

Each appointment keeps one calendar identity for its whole life: UID ``<public_id>@rapport`` (never
the integer key) and SEQUENCE ``appointment.sequence``, which the booking services raise on every
change, so a calendar updates the entry it already has instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from django.db.models import QuerySet
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText
from icalendar.enums import STATUS

from rapport.practice.models import ServiceKind
from rapport.scheduling.models import Appointment, AppointmentStatus

PRODID = "-//Rapport//Rapport//EN"
UID_DOMAIN = "rapport"

Method = Literal["REQUEST", "CANCEL"]


def appointment_uid(appointment: Appointment) -> str:
    """The appointment's calendar UID: stable across every change, built from the public id only."""
    return f"{appointment.public_id}@{UID_DOMAIN}"


def appointment_invite(appointment: Appointment, *, method: Method, site_url: str, video_url: str | None = None) -> bytes:
    """One appointment as an iTIP message (RFC 5546) to attach to a confirmation, change or cancellation email.

    ``method`` is ``"REQUEST"`` for a new or changed appointment (STATUS:CONFIRMED) and
    ``"CANCEL"`` for a cancelled one (STATUS:CANCELLED); both carry the same UID, and SEQUENCE is
    ``appointment.sequence``, so the service that made the change must have raised it first.

    ``site_url`` is the one link in the DESCRIPTION: where *this recipient* manages the booking.
    A client's manage link is a credential of its own, so build one invite per recipient: each
    partner of a couple gets their own link, the therapist a link into the workspace.

    ``video_url`` becomes the LOCATION of an online service; otherwise (in person, or no room
    yet) the LOCATION is the practice's name. ORGANIZER is the practice's contact email, when set.

    Reads ``appointment.service`` and ``appointment.practice``; nothing clinical.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"Unsupported iTIP method {method!r}: use 'REQUEST' or 'CANCEL'.")
    service = appointment.service
    practice = appointment.practice
    location = video_url if service.is_online and video_url else practice.name
    event = _event(
        appointment,
        summary=f"{service.name} — {practice.name}",
        status=STATUS.CANCELLED if method == "CANCEL" else STATUS.CONFIRMED,
        stamp=timezone.now(),
    )
    event.location = location
    event.description = f"Manage this booking: {site_url}"
    if practice.contact_email:
        organizer = vCalAddress(f"mailto:{practice.contact_email}")
        organizer.params["CN"] = practice.name
        event.organizer = organizer
    calendar = _calendar()
    calendar.method = method
    calendar.add_component(event)
    return calendar.to_ical()


def therapist_feed(appointments: Iterable[Appointment], *, calendar_name: str) -> bytes:
    """A therapist's private calendar feed (a published calendar, so no METHOD).

    One VEVENT per appointment given: booked, completed and no-show ones as STATUS:CONFIRMED,
    cancelled ones as STATUS:CANCELLED (so a phone calendar removes an entry it already has).
    The caller chooses which appointments (e.g. the therapist's, a window around today).

    SUMMARY is the service's name and, for an appointment with a case, the clients' initials
    only (``"Individual session (C. C.)"``, ``"Couples session (P. P. & Q. P.)"``); a consultation
    without a case is just ``"Consultation"``. Nothing else about the person, and no location.

    Given a QuerySet, it loads the service and the case's members itself in a fixed number of
    queries; given a list, the caller should have done the same.
    """
    if isinstance(appointments, QuerySet):
        appointments = appointments.select_related("service").prefetch_related("case__members__client")
    calendar = _calendar()
    # icalendar 7 writes these as unknown properties, i.e. unescaped; they are TEXT (RFC 7986 NAME,
    # and X-WR-CALNAME as Apple and Google read it), so escape them explicitly.
    calendar.add("name", vText(calendar_name))
    calendar.add("x-wr-calname", vText(calendar_name))
    stamp = timezone.now()
    for appointment in appointments:
        calendar.add_component(
            _event(
                appointment,
                summary=_feed_summary(appointment),
                status=STATUS.CANCELLED if appointment.status == AppointmentStatus.CANCELLED else STATUS.CONFIRMED,
                stamp=stamp,
            )
        )
    return calendar.to_ical()


def initials(full_name: str) -> str:
    """``"Cora Client"`` -> ``"C. C."``: the first letter of each part of the name."""
    return " ".join(f"{part[0].upper()}." for part in full_name.split())


def _feed_summary(appointment: Appointment) -> str:
    service = appointment.service
    case = appointment.case
    if case is None:
        return "Consultation" if service.kind == ServiceKind.CONSULTATION else service.name
    people = " & ".join(initials(member.client.full_name) for member in case.members.all())
    return f"{service.name} ({people})" if people else service.name


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.prodid = PRODID
    calendar.version = "2.0"
    return calendar


def _event(appointment: Appointment, *, summary: str, status: STATUS, stamp: datetime) -> Event:
    return Event.new(
        uid=appointment_uid(appointment),
        sequence=appointment.sequence,
        stamp=_utc(stamp),
        start=_utc(appointment.start),
        end=_utc(appointment.end),
        summary=summary,
        status=status,
    )


def _utc(moment: datetime) -> datetime:
    # Aware datetimes only (STYLE.md 5): a naive one here is a bug upstream, not a local time.
    if timezone.is_naive(moment):
        raise ValueError("Calendar times must be aware datetimes.")
    return moment.astimezone(UTC)
