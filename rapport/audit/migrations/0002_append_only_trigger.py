"""On PostgreSQL the audit table rejects UPDATE and DELETE at the database level.

SQLite gets no trigger: Django's test flush deletes rows there, and a single-file database is
protected by file permissions and the hash chain instead. See docs/security.md for the
privilege split (the application role gets INSERT and SELECT only).
"""

from django.db import migrations

from rapport.core.migration_ops import postgresql_only_sql

CREATE = """
CREATE OR REPLACE FUNCTION rapport_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION rapport_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS rapport_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [postgresql_only_sql(CREATE, DROP)]
