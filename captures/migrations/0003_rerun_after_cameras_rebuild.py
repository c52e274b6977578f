"""cameras 0004 rebuilt the SQLite `cameras` table, which dropped the ON DELETE triggers on it."""

from django.db import migrations

from common.dbsql import OnDelete, sqlite_rerun


class Migration(migrations.Migration):
    dependencies = [("captures", "0002_database_sql"), ("cameras", "0004_protect_consoles")]

    operations = [
        sqlite_rerun(
            on_delete=[
                OnDelete("images", "camera_id", "cameras", "CASCADE"),
                OnDelete("capture_attempts", "camera_id", "cameras", "CASCADE"),
            ]
        )
    ]
