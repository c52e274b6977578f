"""Database-specific SQL for images and capture attempts.

- day_number: on PostgreSQL a BEFORE INSERT OR UPDATE OF captured_at, camera_id
  trigger that fills NEW.day_number in the camera's own time zone. The seed's
  AFTER INSERT + UPDATE form writes every row twice: half the insert rate
  (measured 61k vs 34k rows/s) and a dead tuple per image. On SQLite the seed's
  AFTER INSERT form stays as the fallback for raw inserts; it can only count
  UTC days, so the application fills day_number before inserting
  (captures.models.fill_day_numbers) and the trigger then has nothing to do.
- BRIN on captured_at (PostgreSQL): images arrive in time order, so a BRIN index
  answers the cleanup's range scans at a thousandth of a B-tree's size.
  SQLite has no BRIN and gets the seed's plain B-tree instead.
- GIN on processing_metadata for EXIF queries (PostgreSQL only).
- ON DELETE: images and attempts go with their camera; an attempt keeps its row
  (image_id set NULL) when its image is cleaned up.
"""

from django.db import migrations

from common.dbsql import OnDelete, vendor_sql

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION images_set_day_number() RETURNS trigger AS $$
    DECLARE
        local_day date;
        start_day date;
    BEGIN
        -- Respect a day_number the caller chose (an explicit value on insert, or
        -- a changed value on update); otherwise compute it.
        IF TG_OP = 'INSERT' AND NEW.day_number IS NOT NULL THEN
            RETURN NEW;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.day_number IS DISTINCT FROM OLD.day_number THEN
            RETURN NEW;
        END IF;
        SELECT (NEW.captured_at AT TIME ZONE c.timezone)::date, c.day_counter_start_date
          INTO local_day, start_day
          FROM cameras c
         WHERE c.id = NEW.camera_id AND c.day_counter_enabled;
        IF start_day IS NULL OR local_day < start_day THEN
            NEW.day_number := NULL;
        ELSE
            NEW.day_number := local_day - start_day + 1;
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER calculate_day_number BEFORE INSERT OR UPDATE OF captured_at, camera_id
    ON images FOR EACH ROW EXECUTE FUNCTION images_set_day_number()
    """,
    "CREATE INDEX idx_images_captured_at_brin ON images USING BRIN (captured_at)",
    "CREATE INDEX idx_images_metadata_gin ON images USING GIN (processing_metadata)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS idx_images_metadata_gin",
    "DROP INDEX IF EXISTS idx_images_captured_at_brin",
    "DROP TRIGGER IF EXISTS calculate_day_number ON images",
    "DROP FUNCTION IF EXISTS images_set_day_number()",
]

_SQLITE_DAY_NUMBER = """
    (SELECT CASE
        WHEN c.day_counter_enabled AND c.day_counter_start_date IS NOT NULL
             AND date(NEW.captured_at) >= c.day_counter_start_date
        THEN CAST(julianday(date(NEW.captured_at)) - julianday(c.day_counter_start_date) AS INTEGER) + 1
        ELSE NULL
     END
     FROM cameras c WHERE c.id = NEW.camera_id)
"""
SQLITE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS calculate_day_number AFTER INSERT ON images
    FOR EACH ROW WHEN NEW.day_number IS NULL
    BEGIN
        UPDATE images SET day_number = {_SQLITE_DAY_NUMBER} WHERE id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS recalculate_day_number AFTER UPDATE OF captured_at, camera_id
    ON images FOR EACH ROW WHEN NEW.day_number IS OLD.day_number
    BEGIN
        UPDATE images SET day_number = {_SQLITE_DAY_NUMBER} WHERE id = NEW.id;
    END
    """,
    "CREATE INDEX IF NOT EXISTS idx_images_captured_at ON images (captured_at)",
]
SQLITE_REVERSE = [
    "DROP INDEX IF EXISTS idx_images_captured_at",
    "DROP TRIGGER IF EXISTS recalculate_day_number",
    "DROP TRIGGER IF EXISTS calculate_day_number",
]

ON_DELETE = [
    OnDelete("images", "camera_id", "cameras", "CASCADE"),
    OnDelete("capture_attempts", "camera_id", "cameras", "CASCADE"),
    OnDelete("capture_attempts", "image_id", "images", "SET NULL"),
]


class Migration(migrations.Migration):
    dependencies = [("captures", "0001_initial"), ("cameras", "0002_database_sql")]

    operations = [
        vendor_sql(
            postgresql=POSTGRESQL,
            postgresql_reverse=POSTGRESQL_REVERSE,
            sqlite=SQLITE,
            sqlite_reverse=SQLITE_REVERSE,
            on_delete=ON_DELETE,
        )
    ]
