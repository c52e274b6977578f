"""Period videos and share logos go with their camera and share (database-enforced, like the seed's rules)."""

from django.db import migrations

from common.dbsql import OnDelete, vendor_sql


class Migration(migrations.Migration):
    dependencies = [("sharing", "0003_period_videos")]

    operations = [
        vendor_sql(
            on_delete=[
                OnDelete("share_watermarks", "share_id", "shares", "CASCADE"),
                OnDelete("period_videos", "camera_id", "cameras", "CASCADE"),
                OnDelete("period_videos", "share_id", "shares", "SET NULL"),
                OnDelete("period_videos", "batch_id", "timelapse_batches", "SET NULL"),
            ]
        )
    ]
