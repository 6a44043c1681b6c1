"""On PostgreSQL, the database itself refuses overlapping appointments of one therapist.

A check in code is not enough there: under READ COMMITTED two bookings both see a free slot
(RELIABILITY.md A4: 4,842 overlapping pairs without the constraint, 0 with it). The range is the
blocked time, buffers included, half-open so back-to-back sessions are allowed; cancelled rows
do not count. SQLite serialises writers with IMMEDIATE transactions instead.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_overlap
    EXCLUDE USING gist (therapist_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&)
    WHERE (status <> 'cancelled');
"""
DROP = "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap;"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
