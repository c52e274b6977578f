"""Day segments go with their camera (database-enforced, like the seed's rules)."""

from django.db import migrations

from common.dbsql import OnDelete, vendor_sql


class Migration(migrations.Migration):
    dependencies = [("batches", "0004_day_segments")]

    operations = [vendor_sql(on_delete=[OnDelete("timelapse_day_segments", "camera_id", "cameras", "CASCADE")])]
