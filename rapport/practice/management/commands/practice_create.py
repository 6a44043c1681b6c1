from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from rapport.practice.services import practice_bootstrap


class Command(BaseCommand):
    help = "Create a practice with its default services and print a one-time link for its first admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help='the name clients see, e.g. "Harbourlight Counselling"')
        parser.add_argument("--slug", required=True, help="a short lowercase name used in settings, e.g. harbourlight")
        parser.add_argument("--time-zone", required=True, help="the practice's IANA time zone, e.g. America/Toronto")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = practice_bootstrap(
                name=options["name"],
                slug=options["slug"],
                time_zone=options["time_zone"],
                admin_email=options["admin_email"],
                admin_name=options["admin_name"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        link = settings.SITE_URL + reverse("workspace:invitation_accept", kwargs={"token": issued.token})
        self.stdout.write(f"Practice {issued.invitation.practice.name!r} created with its three default services.")
        self.stdout.write(f"Send this single-use link to {issued.invitation.email} (valid 7 days); it sets up the admin account:")
        self.stdout.write(link)
