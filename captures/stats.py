"""The fast forms of the questions dashboards ask about images (also timed by bench/cleanup.py).

Latest image per camera is a correlated subquery (PostgreSQL runs it as a
LATERAL-like SubPlan, one index probe per camera on idx_images_camera_captured);
DISTINCT ON over the images table took seconds at 5 million rows.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from cameras.models import Camera
from captures.models import Image


def latest_images(cameras=None) -> dict[int, Image]:
    """The newest image of each camera, by camera id (cameras without images are absent)."""
    cameras = Camera.objects.all() if cameras is None else cameras
    newest = Image.objects.filter(camera=OuterRef("pk")).order_by("-captured_at").values("pk")[:1]
    ids = cameras.annotate(latest_id=Subquery(newest)).values("latest_id")
    return {image.camera_id: image for image in Image.objects.filter(pk__in=ids).order_by()}


def day_counts(camera: Camera, days: int = 90, today: date | None = None) -> list[tuple[date, int]]:
    """Images per local calendar day of the camera over the last `days` days, oldest first.

    Days without images are absent. Reads only idx_images_camera_captured
    (an index-only scan on PostgreSQL once the table is vacuumed).
    """
    tz = zoneinfo.ZoneInfo(camera.timezone)
    today = today or timezone.now().astimezone(tz).date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=tz)
    rows = (
        Image.objects.filter(camera=camera, captured_at__gte=start)
        .annotate(day=TruncDate("captured_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("*"))
        .order_by("day")
    )
    return [(row["day"], row["n"]) for row in rows]
