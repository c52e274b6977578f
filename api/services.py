"""The queries and shapes behind the API's endpoints, so the route functions stay thin."""

from __future__ import annotations

import base64
import binascii
import functools
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import JSONField, Q, QuerySet
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


def camera_rows(
    fields: tuple[str, ...],
    *,
    enabled: bool | None = None,
    pk: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict]:
    """`fields` of each camera (by name, then id) plus its health and newest image: one
    query whatever their number, as plain values. Written out rather than built by the ORM,
    which with its two subqueries, model rows and per-row schema validation cost most of
    the camera list's time; Django's own converters still turn each column into its Python
    value on either database. Only the named columns (and what status_of reads) are
    selected, so nothing else can leak."""
    sql, keys, converters = _camera_query(fields, connection.vendor)
    where, params = [], []
    if enabled is not None:
        where.append("c.enabled = %s")
        params.append(enabled)
    if pk is not None:
        where.append("c.id = %s")
        params.append(pk)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY c.name, c.id"
    if limit is not None:
        sql += " LIMIT %s OFFSET %s"
        params += [limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    now = timezone.now()
    # A JSON column's text is parsed once per distinct value: most cameras share theirs
    # (capture_weekdays is "[]" for every camera that captures every day), and status_of
    # only reads what it gets.
    parsed: dict[tuple[int, object], object] = {}
    rows = []
    for record in fetched:
        record = list(record)
        for index, col, functions, memo in converters:
            raw = record[index]
            if memo and (index, raw) in parsed:
                record[index] = parsed[index, raw]
                continue
            for convert in functions:
                record[index] = convert(record[index], col, connection)
            if memo:
                parsed[index, raw] = record[index]
        values = dict(zip(keys, record, strict=True))
        row = {name: values[name] for name in fields}
        row["health"] = health_of(SimpleNamespace(**values), now)
        rows.append(row)
    return rows


@functools.cache
def _camera_query(fields: tuple[str, ...], vendor: str) -> tuple[str, list[str], list[tuple]]:
    """camera_rows' SELECT (without WHERE and ORDER BY), its keys and its columns' converters:
    the same for every request, ~10 % of the list's time when built each time. Converters
    are the backend's (vendor-wide rules such as SQLite's text datetimes read in UTC), and
    camera_rows hands them the connection in use."""
    names = list(dict.fromkeys((*fields, *STATUS_FIELDS, "last_health_check", "down_notified_at")))
    columns = [Camera._meta.get_field(name) for name in names]
    captured_at = Image._meta.get_field("captured_at")
    latest = f"SELECT i.{{}} FROM {Image._meta.db_table} i WHERE i.camera_id = c.id ORDER BY i.captured_at DESC LIMIT 1"
    sql = (
        f"SELECT {', '.join('c.' + field.column for field in columns)},"
        f" ({latest.format('id')}), ({latest.format(captured_at.column)}) FROM {Camera._meta.db_table} c"
    )
    cols = [field.get_col("c") for field in columns] + [None, captured_at.get_col("i")]
    converters = [
        (index, col, [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)])
        for index, col in enumerate(cols)
        if col is not None
    ]
    converters = [
        (index, col, functions, isinstance(col.target, JSONField))
        for index, col, functions in converters
        if functions
    ]
    return sql, [*names, "latest_image_id", "last_captured_at"], converters


def camera_count(enabled: bool | None = None) -> int:
    cameras = Camera.objects.all()
    return (cameras if enabled is None else cameras.filter(enabled=enabled)).count()


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
        when.astimezone(UTC)  # the databases compare in UTC: year 1 at +14:00 is not a time they hold
        if not 0 < int(pk) < 2**63:
            raise ValueError
        return when, int(pk)
    except (ValueError, OverflowError, binascii.Error, UnicodeError) as exc:
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
