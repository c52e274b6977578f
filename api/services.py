"""The queries and shapes behind the API's endpoints, so the route functions stay thin."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cameras.models import Camera
from captures.models import Image
from operations.dashboard import status_of
from sharing.models import Share
from sharing.services import absolute_url


class BadCursor(ValueError):
    """A `cursor` value this API did not hand out."""


# --- Cameras -----------------------------------------------------------------


def cameras_with_health() -> QuerySet[Camera]:
    """Cameras with their newest image's id and time: one query whatever their number."""
    latest = Image.objects.filter(camera=OuterRef("pk")).order_by("-captured_at")
    return Camera.objects.annotate(
        latest_image_id=Subquery(latest.values("pk")[:1]),
        last_captured_at=Subquery(latest.values("captured_at")[:1]),
    ).order_by("name", "pk")


# What status_of() reads of a camera (operations.dashboard and cameras.schedule).
STATUS_FIELDS = (
    "enabled", "offline_since", "connection_failures", "timezone", "capture_weekdays",
    "window_start", "window_end", "daylight_only", "latitude", "longitude",
    "sunrise_offset_minutes", "sunset_offset_minutes",
)  # fmt: skip


def health_of(camera, now: datetime | None = None) -> dict:
    return {
        "status": status_of(camera, now or timezone.now()),
        "connection_failures": camera.connection_failures,
        "last_health_check": camera.last_health_check,
        "down_since": camera.down_notified_at,
        "last_captured_at": camera.last_captured_at,
        "latest_image_id": camera.latest_image_id,
    }


def camera_rows(cameras: QuerySet[Camera], fields: tuple[str, ...]) -> list[dict]:
    """`fields` of each camera plus its health, as plain values: no model instances and
    no schema validation per row, which were most of the camera list's cost. Only the
    named columns (and the few status_of reads) are selected, so nothing else can leak."""
    now = timezone.now()
    wanted = dict.fromkeys(
        (
            *fields,
            *STATUS_FIELDS,
            "last_health_check",
            "down_notified_at",
            "latest_image_id",
            "last_captured_at",
        )
    )
    rows = []
    for values in cameras.values(*wanted):
        row = {name: values[name] for name in fields}
        row["health"] = health_of(SimpleNamespace(**values), now)
        rows.append(row)
    return rows


def latest_image(camera: Camera) -> Image | None:
    return Image.objects.filter(camera=camera).defer("processing_metadata").order_by("-captured_at").first()


# --- Images, paged by key ----------------------------------------------------


def encode_cursor(image: Image) -> str:
    return base64.urlsafe_b64encode(f"{image.captured_at.isoformat()}|{image.pk}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, pk = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        when = parse_datetime(at)
        if when is None or timezone.is_naive(when):
            raise ValueError
        return when, int(pk)
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise BadCursor("Not a cursor this API handed out; start again without one.") from exc


def image_page(
    camera: Camera, date_from: date | None, date_to: date | None, cursor: str | None, limit: int
) -> dict:
    """Newest first. The cursor is the last image's (captured_at, id), so a page costs one
    index range scan on idx_images_camera_captured however deep it is (no OFFSET)."""
    tz = ZoneInfo(camera.timezone)
    images = Image.objects.filter(camera=camera).defer("processing_metadata")
    if date_from:
        images = images.filter(captured_at__gte=datetime.combine(date_from, time.min, tz))
    if date_to:
        images = images.filter(captured_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tz))
    if cursor:
        at, pk = decode_cursor(cursor)
        images = images.filter(Q(captured_at__lt=at) | Q(captured_at=at, pk__lt=pk))
    rows = list(images.order_by("-captured_at", "-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(rows[-1]) if more else None}


# --- Shares -------------------------------------------------------------------


def shares_with_batches() -> QuerySet[Share]:
    return Share.objects.prefetch_related("share_batches").order_by("-created_at", "-pk")


def share_url(share: Share) -> str:
    return absolute_url(reverse("sharing:page", args=[share.token]))


def share_batch_ids(share: Share) -> list[int]:
    """In display order, from the prefetched links (no query per share)."""
    links = sorted(share.share_batches.all(), key=lambda link: (link.display_order, link.pk))
    return [link.timelapse_batch_id for link in links]
