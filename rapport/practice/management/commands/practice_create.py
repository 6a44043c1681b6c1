from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from rapport.consents.services import consent_defaults_create
from rapport.practice.models import Practice
from rapport.practice.services import IssuedInvitation, practice_admin_invite, practice_bootstrap


def invitation_link(issued: IssuedInvitation) -> str:
    return settings.SITE_URL + reverse("workspace:invitation_accept", kwargs={"token": issued.token})


class Command(BaseCommand):
    help = (
        "Create a practice with its default services and print a one-time link for its first admin. "
        "With --reinvite, print a new link for an admin of an existing practice (e.g. the first one expired)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="a short lowercase name used in settings, e.g. harbourlight")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", required=True)
        parser.add_argument("--name", help='the name clients see, e.g. "Harbourlight Counselling" (new practice)')
        parser.add_argument("--time-zone", help="the practice's IANA time zone, e.g. America/Toronto (new practice)")
        parser.add_argument("--contact-email", default="", help="the address shown on the public site (new practice)")
        parser.add_argument("--reinvite", action="store_true", help="invite an admin to the existing practice SLUG")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["reinvite"]:
                practice = Practice.objects.filter(slug=options["slug"]).first()
                if practice is None:
                    raise CommandError(f"No practice with the slug {options['slug']!r}.")
                issued = practice_admin_invite(practice=practice, email=options["admin_email"], full_name=options["admin_name"])
            else:
                if not options["name"] or not options["time_zone"]:
                    raise CommandError("A new practice needs --name and --time-zone.")
                # One transaction: a practice never exists without the consent form its clients sign.
                with transaction.atomic():
                    issued = practice_bootstrap(
                        name=options["name"],
                        slug=options["slug"],
                        time_zone=options["time_zone"],
                        contact_email=options["contact_email"],
                        admin_email=options["admin_email"],
                        admin_name=options["admin_name"],
                    )
                    consent_defaults_create(actor=None, practice=issued.invitation.practice)
                self.stdout.write(
                    f"Practice {issued.invitation.practice.name!r} created with its three default services and its default consent form."
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Send this single-use link to {issued.invitation.email} (valid 7 days); it sets up the admin account:")
        self.stdout.write(invitation_link(issued))
