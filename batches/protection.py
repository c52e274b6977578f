"""Which images a batch keeps from the retention cleanup: the rule's one home.

A batch protects its images when it is a checkpoint or manual batch that is
completed, or processing: a render reading its frames right now must not lose
them half way. Pending and failed batches do not protect (they can be retried
with whatever frames remain); continuous batches never do, their day segments
carry the video, and an image of a continuous camera is kept until its day's
segment covers it.

The rule is SQL because the cleanup asks it of millions of rows, inside its own
statements (see operations.cleanup); the ORM uses the same text through RawSQL.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from batches.models import DaySegment, TimelapseBatch
from cameras.models import Camera

PROTECTIVE_TYPES = (TimelapseBatch.BatchType.CHECKPOINT, TimelapseBatch.BatchType.MANUAL)
PROTECTIVE_STATUSES = (TimelapseBatch.Status.COMPLETED, TimelapseBatch.Status.PROCESSING)


def _sql_list(values) -> str:
    # Constants of this module, never user input.
    return ", ".join(f"'{value}'" for value in values)


def protecting_frame_sql(image_id: str) -> str:
    """A subquery with a row for each frame that protects the image `image_id` (an SQL expression)."""
    return f"""
    SELECT 1 AS found FROM timelapse_images ti
    JOIN timelapse_batches b ON b.id = ti.timelapse_batch_id
    WHERE ti.image_id = {image_id}
      AND b.batch_type IN ({_sql_list(PROTECTIVE_TYPES)})
      AND b.status IN ({_sql_list(PROTECTIVE_STATUSES)})
"""


def in_protective_batch() -> RawSQL:
    """An annotation for an Image queryset: does a batch protect this image?"""
    return RawSQL(f"EXISTS ({protecting_frame_sql('images.id')})", [], output_field=BooleanField())


def segment_coverage(camera: Camera) -> dict[date, datetime] | None:
    """For a continuous camera, the last capture each rendered day covers; None if not continuous.

    One row per day, so this stays small (ten years is 3,650 entries).
    """
    if camera.continuous_mode == Camera.ContinuousMode.OFF:
        return None
    return dict(DaySegment.objects.filter(camera=camera).values_list("local_date", "last_captured_at"))


def awaits_segment(
    coverage: dict[date, datetime] | None, captured_at: datetime, tz: zoneinfo.ZoneInfo
) -> bool:
    """Is this capture of a continuous camera not yet in its day's segment (and so still needed)?"""
    if coverage is None:
        return False
    covered_until = coverage.get(captured_at.astimezone(tz).date())
    return covered_until is None or covered_until < captured_at
