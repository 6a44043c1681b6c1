from __future__ import annotations

# Lives in the audit app because a rotation run is itself audited; the work is rapport.core.keyrotation.
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.core.keyrotation import rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the active key (the first in RAPPORT_ENCRYPTION_KEYS). "
        "Safe to interrupt and run again; the app keeps serving meanwhile."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]

        def progress(label: str, last_pk: int) -> None:
            if verbosity > 1:
                self.stdout.write(f"  {label}: up to #{last_pk}")

        # Recorded before the work, so even a run that is killed half-way leaves a trace.
        audit_record(actor=None, action=Action.ROTATE_KEYS, object_type="core.keyring", detail={"phase": "started"})
        report = rotate_all(batch_size=options["batch_size"], on_batch=progress)
        audit_record(
            actor=None,
            action=Action.ROTATE_KEYS,
            object_type="core.keyring",
            detail={
                "phase": "finished",
                "active_key": report.active_key,
                "scanned": report.scanned,
                "reencrypted": report.reencrypted,
                "secrets_resealed": report.secrets_resealed,
                "undecryptable": len(report.undecryptable),
            },
        )
        for label, count in sorted(report.per_model.items()):
            self.stdout.write(f"{label}: {count} re-encrypted")
        self.stdout.write(
            f"done: {report.reencrypted} of {report.scanned} encrypted rows re-encrypted and "
            f"{report.secrets_resealed} MFA secrets re-sealed under key {report.active_key}"
        )
        if report.undecryptable:
            for row in report.undecryptable:
                self.stderr.write(f"cannot decrypt {row} with any key in the keyring; left as it was")
            raise CommandError(
                f"{len(report.undecryptable)} row(s) could not be decrypted: is a retired key missing from RAPPORT_ENCRYPTION_KEYS?"
            )
