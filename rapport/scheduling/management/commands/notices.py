"""The appointment emails that need a person: list them, send one again, or record one as sent."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count

from rapport.scheduling.mail import notice_mark_sent, notice_requeue, notices_needing_a_person
from rapport.scheduling.models import Notice


class Command(BaseCommand):
    help = (
        "Without options: count appointment emails by state and list the failed and stuck ones. "
        "--retry ID sends a failed one again on the worker's next run; --mark-sent ID records a stuck one as delivered."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--retry", metavar="ID", nargs="+", help="public ids of failed notices to send again")
        parser.add_argument(
            "--claimed-too",
            action="store_true",
            help="with --retry: also requeue notices stuck while being sent (check the mail server's log first: they may have been delivered)",
        )
        parser.add_argument(
            "--mark-sent", metavar="ID", nargs="+", help="public ids of stuck notices the mail server's log shows as delivered"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # All the ids given, or none of them: one refused id leaves the others as they were.
        if options["retry"]:
            with transaction.atomic():
                for notice in self._notices(options["retry"]):
                    self._apply(
                        lambda n: notice_requeue(notice=n, claimed_too=options["claimed_too"]), notice, "will be sent on the next run"
                    )
            return
        if options["mark_sent"]:
            with transaction.atomic():
                for notice in self._notices(options["mark_sent"]):
                    self._apply(lambda n: notice_mark_sent(notice=n), notice, "recorded as sent")
            return
        counts = dict(Notice.objects.values_list("state").annotate(n=Count("id")).order_by("state"))
        self.stdout.write("appointment emails: " + (", ".join(f"{state} {n}" for state, n in counts.items()) or "none"))
        waiting = notices_needing_a_person()
        for notice in waiting:
            when = notice.claimed_at if notice.state == "claimed" else notice.due_at
            reason = notice.error or "claimed by a worker that never finished"
            self.stdout.write(
                f"  {notice.public_id}  {notice.state:<7} {notice.kind:<12} to {notice.recipient_email}  {when:%Y-%m-%d %H:%M}  {reason}"
            )
        if not waiting:
            self.stdout.write("none need a person")

    def _notices(self, ids: list[str]) -> list[Notice]:
        found = {
            str(n.public_id): n
            for n in Notice.objects.filter(public_id__in=[i for i in ids if _is_uuid(i)]).select_related("appointment__practice")
        }
        missing = [i for i in ids if i not in found]
        if missing:
            raise CommandError(f"no such notice: {', '.join(missing)} (nothing was changed)")
        return [found[i] for i in ids]

    def _apply(self, change: Any, notice: Notice, done: str) -> None:
        try:
            change(notice)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{notice.public_id}: {done}")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
