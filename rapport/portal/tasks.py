"""Background work for "My data": building an export, and the sweep that expires old ones.

The build runs as soon as the request commits; the sweep (every five minutes) deletes the files
of expired exports, fails builds whose worker died and starts builds the queue never took.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from rapport.portal.services import SweepReport, export_build, exports_sweep


@db_task()
def data_export_build(export_pk: int) -> bool:
    return export_build(export_pk=export_pk) is not None


@db_periodic_task(crontab(minute="*/5"))
def data_exports_sweep() -> SweepReport:
    return exports_sweep()
