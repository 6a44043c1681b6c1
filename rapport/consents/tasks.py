"""Background work for consents: the therapist's email about a withdrawal (see ``notifications``)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from rapport.consents.notifications import withdrawal_notify


@db_task()
def treatment_withdrawal_notify(decision_id: int) -> int:
    return withdrawal_notify(decision_id)
