"""Database-specific SQL for batches: the seed's ON DELETE CASCADE rules.

Deleting a batch removes its timelapse_images rows (the images stay); deleting
an image removes it from every batch; deleting a camera removes its batches.
The pending-batches partial index is an ORM index (both databases support it).
"""

from django.db import migrations

from common.dbsql import OnDelete, vendor_sql

ON_DELETE = [
    OnDelete("timelapse_batches", "camera_id", "cameras", "CASCADE"),
    OnDelete("timelapse_images", "timelapse_batch_id", "timelapse_batches", "CASCADE"),
    OnDelete("timelapse_images", "image_id", "images", "CASCADE"),
]


class Migration(migrations.Migration):
    dependencies = [("batches", "0002_initial"), ("captures", "0002_database_sql")]

    operations = [vendor_sql(on_delete=ON_DELETE)]
