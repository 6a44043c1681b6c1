from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.audit.verification import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero and names each broken event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--head",
            help="a head hash recorded earlier (by a previous run or the daily log line); the chain must still contain it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_chain_verify(anchor=options.get("head"))
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(problem.message)
            raise CommandError(f"audit chain broken: {len(result.problems)} problem(s) in {result.checked} events")
        self.stdout.write(f"audit chain ok: {result.checked} events, head {result.head}")
