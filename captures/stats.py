"""The fast forms of the questions dashboards ask about images (also timed by bench/cleanup.py).

Latest image per camera is a correlated subquery (PostgreSQL runs it as a
LATERAL-like SubPlan, one index probe per camera on idx_images_camera_captured);
DISTINCT ON over the images table took seconds at 5 million rows.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from cameras.models import Camera
from captures.models import Image


def latest_images(cameras=None) -> dict[int, Image]:
    """The newest image of each camera, by camera id (cameras without images are absent)."""
    cameras = Camera.objects.all() if cameras is None else cameras
    newest = Image.objects.filter(camera=OuterRef("pk")).order_by("-captured_at").values("pk")[:1]
    # Two short queries: as one, PostgreSQL evaluated the subquery twice per camera.
    ids = [
        pk for pk in cameras.annotate(latest_id=Subquery(newest)).values_list("latest_id", flat=True) if pk
    ]
    # EXIF metadata is the bulk of a row and no "latest image" view needs it.
    latest = Image.objects.filter(pk__in=ids).defer("processing_metadata").order_by()
    return {image.camera_id: image for image in latest}


def day_counts(camera: Camera, days: int = 90, today: date | None = None) -> list[tuple[date, int]]:
    """Images per local calendar day of the camera over the last `days` days, oldest first.

    Days without images are absent. On PostgreSQL one count per day, each an
    index-only range scan of idx_images_camera_captured between two local
    midnights (computed here, so DST days are 23 or 25 hours long): no per-row
    time zone conversion and no sort, which made GROUP BY date(...) three times
    slower at 5 million rows. SQLite groups by the local date instead.
    """
    tz = zoneinfo.ZoneInfo(camera.timezone)
    today = today or timezone.now().astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    if connection.vendor != "postgresql":
        rows = (
            Image.objects.filter(camera=camera, captured_at__gte=datetime.combine(first, time.min, tzinfo=tz))
            .annotate(day=TruncDate("captured_at", tzinfo=tz))
            .values("day")
            .annotate(n=Count("*"))
            .order_by("day")
        )
        return [(row["day"], row["n"]) for row in rows]
    midnights = [datetime.combine(first + timedelta(days=i), time.min, tzinfo=tz) for i in range(days + 1)]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT d.lo, (SELECT count(*) FROM images
                          WHERE camera_id = %s AND captured_at >= d.lo AND captured_at < d.hi)
            FROM unnest(%s::timestamptz[], %s::timestamptz[]) AS d(lo, hi)
            """,
            [camera.pk, midnights[:-1], midnights[1:]],
        )
        counts = [n for _, n in cursor.fetchall()]
    return [(first + timedelta(days=i), n) for i, n in enumerate(counts) if n]
