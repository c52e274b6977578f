"""A camera's health over the last 30 days as a small server-drawn SVG (no JavaScript chart library).

Bars are images stored per day; the red line is the share of capture attempts
that failed that day. Days are calendar days in the camera's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import escape

from captures.models import CaptureAttempt, Image
from common.timezones import zone_or_utc

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 28, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class DayHealth:
    day: date
    images: int
    attempts: int
    failures: int

    @property
    def failure_rate(self) -> float | None:
        return self.failures / self.attempts if self.attempts else None


def camera_health(camera, days: int = 30, now: datetime | None = None) -> list[DayHealth]:
    """Per-day images and attempt outcomes for the last `days` local days, today last (two queries)."""
    tz = zone_or_utc(camera.timezone)
    today = (now or timezone.now()).astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=tz)

    images = dict(
        Image.objects.filter(camera=camera, captured_at__gte=since)
        .annotate(day=TruncDate("captured_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    attempts = {
        row["day"]: row
        for row in CaptureAttempt.objects.filter(camera=camera, attempted_at__gte=since)
        .annotate(day=TruncDate("attempted_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(total=Count("pk"), failed=Count("pk", filter=~Q(status=CaptureAttempt.Status.SUCCESS)))
    }
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = attempts.get(day, {})
        result.append(
            DayHealth(
                day=day,
                images=images.get(day, 0),
                attempts=row.get("total", 0),
                failures=row.get("failed", 0),
            )
        )
    return result


def _nice_max(value: int) -> int:
    """Round the bar scale up to 1, 2 or 5 times a power of ten, so the axis label reads well."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


# Day labels are about 30 px wide and a slot is 18 px at 30 days: a weekly label
# closer than this many slots to the last day's label would run into it.
LABEL_GAP_SLOTS = 4
# Room left of the legend (which ends at the right edge) for the bold title.
TITLE_CHARS = 48


def _labelled(index: int, count: int) -> bool:
    """Every seventh day and the last one, minus a weekly label that would touch the last."""
    last = count - 1
    return index == last or (index % 7 == 0 and last - index >= LABEL_GAP_SLOTS)


def _shortened(title: str) -> str:
    """The title cut to fit beside the legend; the whole one stays in <title> and aria-label."""
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"


def render_health_svg(title: str, health: list[DayHealth]) -> str:
    scale = _nice_max(max((day.images for day in health), default=0))
    slot = PLOT_W / max(1, len(health))
    bar_w = max(1.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="16" font-size="12" font-weight="bold" fill="#333">{escape(_shortened(title))}</text>',
        f'<text x="{WIDTH - RIGHT}" y="16" text-anchor="end" fill="#555">'
        '<tspan fill="#4a90c2">■ images/day</tspan>  <tspan fill="#c0392b">— failure rate</tspan></text>',
        # Axes and their scales: images on the left, failure rate on the right.
        f'<line x1="{LEFT}" y1="{TOP + PLOT_H}" x2="{LEFT + PLOT_W}" y2="{TOP + PLOT_H}" stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT + PLOT_W}" y2="{TOP}" stroke="#eee"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" fill="#4a90c2">{scale}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + PLOT_H}" text-anchor="end" fill="#4a90c2">0</text>',
        f'<text x="{LEFT + PLOT_W + 4}" y="{TOP + 4}" fill="#c0392b">100%</text>',
        f'<text x="{LEFT + PLOT_W + 4}" y="{TOP + PLOT_H}" fill="#c0392b">0%</text>',
    ]
    points = []
    for index, day in enumerate(health):
        x = LEFT + index * slot
        height = PLOT_H * day.images / scale
        rate = day.failure_rate
        tip = f"{day.day:%Y-%m-%d}: {day.images} images, {day.attempts} attempts"
        if rate is not None:
            tip += f", {rate:.0%} failed"
        parts.append(
            f'<rect class="bar" x="{x + (slot - bar_w) / 2:.1f}" y="{TOP + PLOT_H - height:.1f}" '
            f'width="{bar_w:.1f}" height="{height:.1f}" fill="#4a90c2"><title>{escape(tip)}</title></rect>'
        )
        if rate is not None:
            points.append((x + slot / 2, TOP + PLOT_H * (1 - rate)))
        if _labelled(index, len(health)):
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#555">'
                f"{day.day:%m-%d}</text>"
            )
    if points:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline class="failure-rate" points="{coords}" fill="none" stroke="#c0392b"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#c0392b"/>' for x, y in points)
    if not any(day.images or day.attempts for day in health):
        parts.append(
            f'<text x="{LEFT + PLOT_W / 2}" y="{TOP + PLOT_H / 2}" text-anchor="middle" fill="#999">'
            "No captures in the last 30 days</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def camera_health_svg(camera, days: int = 30, now: datetime | None = None) -> str:
    """The SVG for the camera change page and the dashboard."""
    return render_health_svg(f"{camera.name}: last {days} days", camera_health(camera, days, now))
