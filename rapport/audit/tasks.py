"""Periodic audit work: verify the chain and write its head outside the database.

A hash chain only shows tampering if its head is also kept somewhere the database's owner cannot
rewrite (RELIABILITY.md A5). The daily log line is that anchor: ship logs to a separate system
and compare with ``manage.py audit_verify --head <hash>``.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from rapport.audit.verification import audit_chain_verify

logger = logging.getLogger("rapport.audit")


def verify_and_anchor() -> bool:
    result = audit_chain_verify()
    if result.ok:
        logger.info("audit chain ok: %d events, head %s", result.checked, result.head)
    else:
        for problem in result.problems:
            logger.error("audit chain problem: %s", problem.message)
        logger.error("audit chain BROKEN: %d problem(s) in %d events, head %s", len(result.problems), result.checked, result.head)
    return result.ok


@db_periodic_task(crontab(hour="3", minute="17"))
def audit_daily_verify() -> bool:
    return verify_and_anchor()
