"""When a camera captures: its django-celery-beat task, and the windows the task checks.

Beat fires every `capture_interval_seconds`; the capture task then asks
`capture_window_reason()` whether this moment is inside the camera's weekday,
time-of-day and daylight windows. Windows are checked by the task rather than
encoded as crontabs because sunrise moves every day and an interval of, say,
7 seconds has no crontab.
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import datetime, timedelta

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

CAPTURE_TASK = "captures.tasks.capture_camera"


def task_name(camera_id: int) -> str:
    return f"capture camera {camera_id}"


def sync_periodic_task(camera) -> None:
    """Create, update or disable the camera's beat entry; call inside the camera's save.

    Saving a PeriodicTask bumps django-celery-beat's change marker, so a running
    beat picks up the new interval or the disabled flag without a restart.
    """
    schedule, _ = IntervalSchedule.objects.get_or_create(
        every=camera.capture_interval_seconds, period=IntervalSchedule.SECONDS
    )
    enabled = bool(camera.enabled and camera.encryption_key_ref)
    fields = {
        "interval": schedule,
        "task": CAPTURE_TASK,
        "args": json.dumps([camera.pk]),
        "queue": "capture",
        "enabled": enabled,
        # A capture that could not start within its own interval is stale: drop it
        # rather than let a backlog fire a burst of late captures.
        "expire_seconds": camera.capture_interval_seconds,
    }
    with transaction.atomic():
        task = camera.periodic_task
        if task is None:
            task = PeriodicTask.objects.filter(name=task_name(camera.pk)).first()
        if task is None:
            task = PeriodicTask.objects.create(name=task_name(camera.pk), **fields)
        else:
            changed = [name for name, value in fields.items() if getattr(task, name) != value]
            if changed:
                for name in changed:
                    setattr(task, name, fields[name])
                task.save()
        if camera.periodic_task_id != task.pk:
            camera.periodic_task = task
            type(camera).objects.filter(pk=camera.pk).update(periodic_task=task)


def _sun_window(camera, local: datetime) -> tuple[datetime, datetime] | None:
    from astral import Observer
    from astral.sun import sun

    observer = Observer(latitude=camera.latitude, longitude=camera.longitude)
    try:
        times = sun(observer, date=local.date(), tzinfo=local.tzinfo)
    except ValueError:
        # Polar day or night: astral cannot name a sunrise. Treat as no window.
        return None
    return (
        times["sunrise"] + timedelta(minutes=camera.sunrise_offset_minutes),
        times["sunset"] + timedelta(minutes=camera.sunset_offset_minutes),
    )


def capture_window_reason(camera, when: datetime) -> str | None:
    """None if the camera should capture at `when`; otherwise why not (for logs)."""
    local = when.astimezone(zoneinfo.ZoneInfo(camera.timezone))
    if camera.capture_weekdays and local.isoweekday() not in camera.capture_weekdays:
        return "outside the camera's weekdays"
    if camera.window_start is not None and camera.window_end is not None:
        now, start, end = local.time(), camera.window_start, camera.window_end
        # A window like 22:00-06:00 wraps past midnight.
        inside = start <= now < end if start <= end else (now >= start or now < end)
        if not inside:
            return "outside the camera's time-of-day window"
    if camera.daylight_only and camera.latitude is not None and camera.longitude is not None:
        window = _sun_window(camera, local)
        if window is not None and not (window[0] <= local < window[1]):
            return "outside daylight (sunrise/sunset window)"
    return None


# A range reads "Mon\u2013Fri" and "07:00\u201318:00" with an en dash, as printed schedules do.
EN_DASH = "\u2013"
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _every(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return "every second" if seconds == 1 else f"every {seconds} seconds"


def _weekdays(days: list[int]) -> str:
    """A run of days as a range (Mon to Fri, with an en dash), else a list; "" for every day."""
    days = sorted({int(day) for day in days if 1 <= int(day) <= 7})
    if not days or len(days) == 7:
        return ""
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_NAMES[days[0] - 1]}{EN_DASH}{WEEKDAY_NAMES[days[-1] - 1]}"
    return ", ".join(WEEKDAY_NAMES[day - 1] for day in days)


def _sun_edge(name: str, offset: int) -> str:
    if offset == 0:
        return name
    sign = "+" if offset > 0 else "-"
    return f"{name}{sign}{abs(offset)} min"


def describe_schedule(camera) -> str:
    """The camera's schedule as one sentence, e.g. "Every 5 minutes, Mon to Fri, 07:00 to 18:00".

    The capture task's rule is `capture_window_reason()`; this says the same thing in words,
    so the camera page can show what the fields mean together.
    """
    parts = [_every(camera.capture_interval_seconds)]
    days = _weekdays(camera.capture_weekdays or [])
    if days:
        parts.append(days)
    if camera.window_start is not None and camera.window_end is not None:
        parts.append(f"{camera.window_start:%H:%M}{EN_DASH}{camera.window_end:%H:%M}")
    sentence = ", ".join(parts)
    if camera.daylight_only:
        if camera.latitude is None or camera.longitude is None:
            sentence += " (daylight only is ticked but needs latitude and longitude, so it does nothing yet)"
        else:
            sentence += (
                f" from {_sun_edge('sunrise', camera.sunrise_offset_minutes)}"
                f" to {_sun_edge('sunset', camera.sunset_offset_minutes)}"
            )
    if not camera.enabled:
        sentence = "Paused (camera disabled); when enabled: " + sentence
    return sentence[0].upper() + sentence[1:]
