"""On PostgreSQL, the database itself refuses overlapping appointments of one therapist.

A check in code is not enough there: under READ COMMITTED two bookings both see a free slot
(RELIABILITY.md A4: 4,842 overlapping pairs without the constraint, 0 with it). The range is the
blocked time, buffers included, half-open so back-to-back sessions are allowed; cancelled rows
do not count. SQLite serialises writers with IMMEDIATE transactions instead.
"""

from django.db import migrations

from rapport.core.migration_ops import postgresql_only_sql

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_overlap
    EXCLUDE USING gist (therapist_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&)
    WHERE (status <> 'cancelled');
"""
DROP = "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap;"


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]
    operations = [postgresql_only_sql(CREATE, DROP)]
