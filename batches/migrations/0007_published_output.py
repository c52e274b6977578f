"""What is published, apart from the current attempt; existing videos carry over.

Every batch with an output file had it from a completed render (only complete()
sets output_path), whatever its status now: a continuous batch that is pending or
processing again still has its last video, which becomes its published one.
"""

from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Coalesce


def carry_over(apps, schema_editor):
    batches = apps.get_model("batches", "TimelapseBatch").objects.exclude(output_path__isnull=True)
    batches.exclude(output_path="").update(
        published_path=F("output_path"),
        published_size_bytes=F("file_size_bytes"),
        published_at=Coalesce("completed_at", "started_at", "created_at"),
        published_frames=F("total_frames"),
        published_day_overlay=F("day_overlay_applied"),
        published_day_range_start=F("day_range_start"),
        published_day_range_end=F("day_range_end"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('batches', '0006_rerun_after_cameras_rebuild'),
        ('cameras', '0003_rotate_secrets_permission'),
    ]

    operations = [
        migrations.AddField(
            model_name='timelapsebatch',
            name='published_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timelapsebatch',
            name='published_day_overlay',
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timelapsebatch',
            name='published_day_range_end',
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timelapsebatch',
            name='published_day_range_start',
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timelapsebatch',
            name='published_frames',
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timelapsebatch',
            name='published_path',
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timelapsebatch',
            name='published_size_bytes',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timelapsebatch',
            name='retired_outputs',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='timelapsebatch',
            index=models.Index(condition=models.Q(('batch_type', 'continuous'), ('published_path__isnull', False)), fields=['camera', '-published_at'], name='idx_batches_published_live'),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
    ]
