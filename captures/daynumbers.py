"""Renumbering a camera's images when its day counter changes (start date, time zone, on/off).

A new image gets its day number on insert (the PostgreSQL trigger, or
models.fill_day_numbers on SQLite); the images already stored keep theirs
unless someone renumbers them, and a frame would then say "Day 3" in one video
and "Day 10" in the next. Runs inside the camera's save transaction (see
cameras.signals.day_counter_changed), so the new settings and the new numbers
commit together.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Max, Min

from cameras.models import Camera
from captures.models import Image

log = logging.getLogger(__name__)

# One set-based statement: the same arithmetic as the insert trigger
# (captures/migrations/0002), over every image of the camera. Only rows whose
# number changes are written. The trigger fires on captured_at/camera_id
# updates only, so it does not undo this.
_RENUMBER_POSTGRESQL = """
WITH numbered AS (
    SELECT i.id,
           CASE WHEN c.day_counter_enabled AND c.day_counter_start_date IS NOT NULL
                     AND (i.captured_at AT TIME ZONE c.timezone)::date >= c.day_counter_start_date
                THEN (i.captured_at AT TIME ZONE c.timezone)::date - c.day_counter_start_date + 1
           END AS day_number
      FROM images i JOIN cameras c ON c.id = i.camera_id
     WHERE i.camera_id = %s
)
UPDATE images SET day_number = numbered.day_number
  FROM numbered
 WHERE images.id = numbered.id AND images.day_number IS DISTINCT FROM numbered.day_number
"""


def recompute_day_numbers(camera_id: int) -> int:
    """Give every image of the camera the day number its current settings say; rows changed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_RENUMBER_POSTGRESQL, [camera_id])
            changed = cursor.rowcount
    else:
        changed = _recompute_by_local_day(camera_id)
    log.info("day numbers recomputed: camera=%s images=%s", camera_id, changed)
    return changed


def _recompute_by_local_day(camera_id: int) -> int:
    """SQLite has no time zone database: one UPDATE per local day, over its UTC range.

    A day is a range of captured_at (served by idx_images_camera_captured), so a
    camera with a year of images a minute apart costs 365 small statements, not
    half a million row writes from Python.
    """
    enabled, start, tz_name = Camera.objects.values_list(
        "day_counter_enabled", "day_counter_start_date", "timezone"
    ).get(pk=camera_id)
    images = Image.objects.filter(camera_id=camera_id)
    if not enabled or start is None:
        return images.exclude(day_number=None).update(day_number=None)
    span = images.aggregate(first=Min("captured_at"), last=Max("captured_at"))
    if span["first"] is None:
        return 0
    tz = zoneinfo.ZoneInfo(tz_name)
    first_start = _local_midnight(start, tz)
    changed = images.filter(captured_at__lt=first_start).exclude(day_number=None).update(day_number=None)
    day = max(start, span["first"].astimezone(tz).date())
    last_day = span["last"].astimezone(tz).date()
    while day <= last_day:
        begins, ends = _local_midnight(day, tz), _local_midnight(day + timedelta(days=1), tz)
        number = (day - start).days + 1
        changed += (
            images.filter(captured_at__gte=begins, captured_at__lt=ends)
            .exclude(day_number=number)
            .update(day_number=number)
        )
        day += timedelta(days=1)
    return changed


def _local_midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    # Where midnight does not exist (a DST jump at 00:00) zoneinfo takes the
    # offset before the jump, which is the instant the new day begins.
    return datetime.combine(day, time(0), tzinfo=tz)
