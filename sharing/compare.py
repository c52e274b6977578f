"""Before/after on an info page: one picture of the first video's camera on each of two days.

The days are calendar days in the camera's own time zone, chosen on the share's
customization (`display_options["before_date"]`, `["after_date"]`); either left empty
means the first (before) or last (after) day of that video's frames. Each day shows
the picture nearest its local noon, when a site is best lit. The page and the two
image routes ask `pick` alike, so a route serves exactly what the page shows.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Max, Min

from batches.models import BatchSegment, TimelapseImage
from captures.models import Image
from sharing.models import Share
from sharing.services import Item, Theme

SIDES = ("before", "after")


@dataclass(frozen=True)
class Side:
    name: str  # "before" or "after"
    day: date
    image: Image


def _zone(camera) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(camera.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _video_days(batch, zone) -> tuple[date, date] | None:
    """The first and last local day the video shows: its frames', and a period video's kept days.

    A period video's frames are only the days still to encode (batches.segmented): the days
    it already shows are its segments, whose images the cleanup may since have removed.
    """
    span = TimelapseImage.objects.filter(timelapse_batch=batch).aggregate(
        first=Min("image__captured_at"), last=Max("image__captured_at")
    )
    kept = BatchSegment.objects.filter(batch=batch).aggregate(first=Min("local_date"), last=Max("local_date"))
    days = [kept["first"], kept["last"]] if kept["first"] else []
    if span["first"] is not None:
        days += [span["first"].astimezone(zone).date(), span["last"].astimezone(zone).date()]
    return (min(days), max(days)) if days else None


def _nearest_noon(camera_id: int, day: date, zone) -> Image | None:
    """The picture of that local day nearest 12:00: the first from noon on, else the last before."""
    start = datetime.combine(day, time(0), zone)
    noon = datetime.combine(day, time(12), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    pictures = Image.objects.filter(camera_id=camera_id)
    after = pictures.filter(captured_at__gte=noon, captured_at__lt=end).order_by("captured_at").first()
    before = pictures.filter(captured_at__gte=start, captured_at__lt=noon).order_by("-captured_at").first()
    if after is None or before is None:
        return after or before
    return after if after.captured_at - noon <= noon - before.captured_at else before


def pick(share: Share, items: list[Item], theme: Theme) -> list[Side] | None:
    """The two sides, or None when the option is off or a day has no picture.

    Two different days are needed: one day against itself compares nothing.
    """
    if share.share_type != Share.ShareType.INFO_PAGE or not theme.before_after or not items:
        return None
    batch = items[0].batch
    zone = _zone(batch.camera)
    days = _video_days(batch, zone)
    if days is None:
        return None
    chosen = (theme.before_date or days[0], theme.after_date or days[1])
    if chosen[0] == chosen[1]:
        return None
    sides = []
    for name, day in zip(SIDES, chosen, strict=True):
        image = _nearest_noon(batch.camera_id, day, zone)
        if image is None:
            return None
        sides.append(Side(name=name, day=day, image=image))
    return sides
