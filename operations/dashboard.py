"""The operator dashboard: every camera's state, recent renders and expiring shares at a glance.

Everything the page shows comes from a fixed number of queries, however many
cameras there are: the latest image and today's count are correlated subqueries
on the camera query (each served by the index on (camera, captured_at)); disk
use is one grouped scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Case, Count, DateTimeField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from batches.models import TimelapseBatch
from cameras.models import Camera
from cameras.schedule import capture_window_reason
from captures.models import Image
from common import mediastore
from common.timezones import zone_or_utc
from operations.notify import down_threshold, expiring_shares

RECENT_BATCHES = 10
SHARES_EXPIRING_WITHIN = timedelta(days=7)


class Status:
    OK = "ok"
    WARNING = "warning"
    FAILING = "failing"
    OFFLINE = "offline"
    DISABLED = "disabled"
    OUTSIDE_WINDOW = "outside"

    LABELS = {
        OK: "OK",
        WARNING: "Recent failures",
        FAILING: "Failing",
        OFFLINE: "Camera offline",
        DISABLED: "Disabled",
        OUTSIDE_WINDOW: "Outside its window",
    }


@dataclass
class CameraCard:
    camera: Camera
    status: str
    latest_image_id: int | None
    last_captured_at: datetime | None
    images_today: int
    disk_bytes: int
    next_capture_at: datetime | None

    @property
    def status_label(self) -> str:
        return Status.LABELS[self.status]


def _start_of_today(tz_name: str, now: datetime) -> datetime:
    local = now.astimezone(zone_or_utc(tz_name))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _today_start_expression(now: datetime):
    """Midnight in each camera's own time zone, as one CASE over the time zones in use."""
    zones = Camera.objects.order_by().values_list("timezone", flat=True).distinct()
    whens = [
        When(timezone=zone, then=Value(_start_of_today(zone, now), output_field=DateTimeField()))
        for zone in zones
    ]
    fallback = Value(_start_of_today("UTC", now), output_field=DateTimeField())
    if not whens:
        return fallback
    return Case(*whens, default=fallback, output_field=DateTimeField())


def annotated_cameras(now: datetime):
    """Cameras with their latest image and today's count: two queries in all.

    Both subqueries walk idx_images_camera_captured from the newest end, so their
    cost follows images per camera today, not the size of the table.
    """
    per_camera = Image.objects.filter(camera=OuterRef("pk")).order_by()
    latest = per_camera.order_by("-captured_at")
    today = per_camera.filter(captured_at__gte=OuterRef("today_start"))
    return (
        Camera.objects.select_related(
            "periodic_task__interval",
            "periodic_task__crontab",
            "periodic_task__solar",
            "periodic_task__clocked",
        )
        .annotate(today_start=_today_start_expression(now))
        .annotate(
            latest_image_id=Subquery(latest.values("pk")[:1]),
            last_captured_at=Subquery(latest.values("captured_at")[:1]),
            images_today=Coalesce(
                Subquery(today.values("camera").annotate(n=Count("pk")).values("n")[:1]), Value(0)
            ),
        )
        .order_by("name")
    )


DISK_CACHE_SECONDS = 60


def disk_bytes_by_camera() -> dict[int, int]:
    """Bytes of images per camera, in one grouped scan, cached for a minute.

    A correlated SUM per camera re-read the table once per camera (4.6 s for 60
    cameras and 300k images in bench/dashboard.py); one GROUP BY reads it once.
    The total moves slowly, so a minute-old figure is good enough for the page.
    """

    def compute() -> dict[int, int]:
        rows = Image.objects.order_by().values_list("camera_id").annotate(total=Sum("file_size_bytes"))
        return {camera_id: total or 0 for camera_id, total in rows}

    return cache.get_or_set("timelapser:dashboard:disk-bytes", compute, DISK_CACHE_SECONDS)


def video_bytes() -> int:
    """Bytes of the published videos (the full renditions), cached like disk_bytes_by_camera."""

    def compute() -> int:
        total = TimelapseBatch.objects.aggregate(total=Sum("published_size_bytes"))["total"]
        return total or 0

    return cache.get_or_set("timelapser:dashboard:video-bytes", compute, DISK_CACHE_SECONDS)


def next_capture_at(camera: Camera, last_captured_at: datetime | None, now: datetime) -> datetime | None:
    """When the camera's beat task fires next; without one, the last capture plus the interval."""
    if not camera.enabled:
        return None
    backoff = camera.backoff_until()
    if backoff is not None and backoff > now:
        return backoff
    task = camera.periodic_task
    if task is not None:
        if not task.enabled:
            return None
        if task.clocked is not None:
            return task.clocked.clocked_time
        try:
            remaining = task.schedule.remaining_estimate(task.last_run_at or task.start_time or now)
        except (AttributeError, TypeError, ValueError):
            return None
        return max(now, now + remaining)
    if last_captured_at is None:
        return None
    return max(now, last_captured_at + timedelta(seconds=camera.capture_interval_seconds))


def status_of(camera: Camera, now: datetime) -> str:
    if not camera.enabled:
        return Status.DISABLED
    # The console said so (HTTP 503 or DISCONNECTED): not a broken setup, the camera is off.
    if camera.offline_since is not None:
        return Status.OFFLINE
    # "Failing" means what the "camera down" notification means: N failures in a
    # row. One timeout is a warning, not a red light that cries wolf.
    if camera.connection_failures >= down_threshold():
        return Status.FAILING
    if camera.connection_failures > 0:
        return Status.WARNING
    if capture_window_reason(camera, now) is not None:
        return Status.OUTSIDE_WINDOW
    return Status.OK


def camera_cards(now: datetime | None = None) -> list[CameraCard]:
    now = now or timezone.now()
    disk = disk_bytes_by_camera()
    return [
        CameraCard(
            camera=camera,
            status=status_of(camera, now),
            latest_image_id=camera.latest_image_id,
            last_captured_at=camera.last_captured_at,
            images_today=camera.images_today,
            disk_bytes=disk.get(camera.pk, 0),
            next_capture_at=next_capture_at(camera, camera.last_captured_at, now),
        )
        for camera in annotated_cameras(now)
    ]


def recent_batches(limit: int = RECENT_BATCHES):
    return TimelapseBatch.objects.select_related("camera").order_by("-created_at")[:limit]


def dashboard_context(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    cards = camera_cards(now)
    counts = {key: 0 for key in Status.LABELS}
    for card in cards:
        counts[card.status] += 1
    return {
        "now": now,
        "cards": cards,
        "status_counts": counts,
        "batches": list(recent_batches()),
        "expiring_shares": list(
            expiring_shares(SHARES_EXPIRING_WITHIN).only("pk", "title", "expires_at")[:20]
        ),
        "total_disk_bytes": sum(card.disk_bytes for card in cards),
        # Media in a bucket: the figures are what the rows say is there (listing a bucket
        # of millions of objects on a page view is not an option); the page names the bucket.
        "bucket": mediastore.where() if mediastore.remote() else None,
        "total_video_bytes": video_bytes() if mediastore.remote() else None,
    }
