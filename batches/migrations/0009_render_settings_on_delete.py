"""Render settings go with their camera (database-enforced, like the seed's rules)."""

from django.db import migrations

from common.dbsql import OnDelete, vendor_sql


class Migration(migrations.Migration):
    dependencies = [("batches", "0008_render_settings")]

    operations = [vendor_sql(on_delete=[OnDelete("camera_render_settings", "camera_id", "cameras", "CASCADE")])]
