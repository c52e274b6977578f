"""cameras 0004 rebuilt the SQLite `cameras` table, which dropped the ON DELETE triggers on it."""

from django.db import migrations

from common.dbsql import OnDelete, sqlite_rerun


class Migration(migrations.Migration):
    dependencies = [("batches", "0005_day_segments_on_delete"), ("cameras", "0004_protect_consoles")]

    operations = [
        sqlite_rerun(
            on_delete=[
                OnDelete("timelapse_batches", "camera_id", "cameras", "CASCADE"),
                OnDelete("timelapse_day_segments", "camera_id", "cameras", "CASCADE"),
            ]
        )
    ]
