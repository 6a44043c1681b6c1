from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rapport.core.crypto import generate_key_spec


class Command(BaseCommand):
    help = "Print a new AES-256 key entry for RAPPORT_ENCRYPTION_KEYS (put it first to make it active)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key_id", help="a short name for the key, e.g. 2026-11")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(generate_key_spec(options["key_id"]))
