"""Database-specific SQL for cameras: the updated_at trigger and the JSON index."""

from django.db import migrations

from common.dbsql import vendor_sql

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION cameras_touch_updated_at() RETURNS trigger AS $$
    BEGIN
        NEW.updated_at := now();
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    # BEFORE, not the seed's AFTER + UPDATE: one write per change instead of two.
    """
    CREATE TRIGGER update_cameras_timestamp BEFORE UPDATE ON cameras
    FOR EACH ROW EXECUTE FUNCTION cameras_touch_updated_at()
    """,
    "CREATE INDEX idx_cameras_overlay_gin ON cameras USING GIN (day_overlay_style)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS idx_cameras_overlay_gin",
    "DROP TRIGGER IF EXISTS update_cameras_timestamp ON cameras",
    "DROP FUNCTION IF EXISTS cameras_touch_updated_at()",
]

# SQLite has no BEFORE-row assignment, so this is the seed's AFTER UPDATE form,
# guarded so it does not fire again for its own UPDATE (or when the caller set
# updated_at itself, as Django's auto_now does).
SQLITE = [
    """
    CREATE TRIGGER IF NOT EXISTS update_cameras_timestamp AFTER UPDATE ON cameras
    FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
    BEGIN
        UPDATE cameras SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
    END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS update_cameras_timestamp"]


class Migration(migrations.Migration):
    dependencies = [("cameras", "0001_initial")]

    operations = [
        vendor_sql(
            postgresql=POSTGRESQL,
            postgresql_reverse=POSTGRESQL_REVERSE,
            sqlite=SQLITE,
            sqlite_reverse=SQLITE_REVERSE,
        )
    ]
