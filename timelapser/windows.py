"""Is a camera inside its capture window right now? (weekdays, local time window, daylight)

The dashboard uses this to tell "outside its window" from "failing". The capture
scheduler owns the authoritative rule (cameras.schedule.capture_window_reason);
is_within_window defers to it when present and falls back to the same reading
of the Camera fields here.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from astral import Observer
from astral.sun import elevation, sun


def _local(camera, now: datetime) -> datetime:
    try:
        tz = zoneinfo.ZoneInfo(camera.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return now.astimezone(tz)


def in_time_window(start, end, local_time) -> bool:
    """start <= t < end; a window whose end is before its start runs over midnight."""
    if start is None and end is None:
        return True
    if start is None:
        return local_time < end
    if end is None:
        return local_time >= start
    if start <= end:
        return start <= local_time < end
    return local_time >= start or local_time < end


def is_daylight(camera, now: datetime) -> bool:
    """Between sunrise and sunset (each shifted by the camera's offsets) where the camera stands.

    Without coordinates there is no sun to ask, so the camera counts as in daylight.
    """
    if camera.latitude is None or camera.longitude is None:
        return True
    observer = Observer(latitude=camera.latitude, longitude=camera.longitude)
    local = _local(camera, now)
    try:
        times = sun(observer, date=local.date(), tzinfo=local.tzinfo)
    except ValueError:
        # Polar day or night: the sun never crosses the horizon today.
        return elevation(observer, now) > 0
    rise = times["sunrise"] + timedelta(minutes=camera.sunrise_offset_minutes)
    set_ = times["sunset"] + timedelta(minutes=camera.sunset_offset_minutes)
    return rise <= local <= set_


def is_within_window(camera, now: datetime) -> bool:
    """Inside the window the capture scheduler uses; its own rule wins when it is installed."""
    try:
        from cameras.schedule import capture_window_reason
    except ImportError:
        pass
    else:
        return capture_window_reason(camera, now) is None
    local = _local(camera, now)
    weekdays = camera.capture_weekdays or []
    if weekdays and local.isoweekday() not in weekdays:
        return False
    if not in_time_window(camera.window_start, camera.window_end, local.time().replace(tzinfo=None)):
        return False
    return not camera.daylight_only or is_daylight(camera, now)
