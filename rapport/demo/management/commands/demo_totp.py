from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account, so the demo can be tried without a phone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo_totp is for the demo only and refuses to run with RAPPORT_ENV=production.")
        authenticator = Authenticator.objects.filter(user__email=options["email"].lower(), type=Authenticator.Type.TOTP).first()
        if authenticator is None:
            raise CommandError(f"No authenticator app is set up for {options['email']}.")
        counters = list(yield_hotp_counters_from_time())
        current = counters[len(counters) // 2]
        self.stdout.write(format_hotp_value(hotp_value(decrypt(authenticator.data["secret"]), current)))
