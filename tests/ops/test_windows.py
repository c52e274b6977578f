"""Capture windows as the dashboard reads them: weekdays, local hours (also over midnight), daylight."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time
from types import SimpleNamespace

from timelapser.windows import in_time_window, is_daylight, is_within_window

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def camera(**fields):
    base = {
        "timezone": "Europe/Berlin",
        "capture_weekdays": [],
        "window_start": None,
        "window_end": None,
        "daylight_only": False,
        "latitude": None,
        "longitude": None,
        "sunrise_offset_minutes": 0,
        "sunset_offset_minutes": 0,
    }
    return SimpleNamespace(**{**base, **fields})


def test_time_window_over_midnight():
    assert in_time_window(time(22), time(6), time(23, 30))
    assert in_time_window(time(22), time(6), time(5, 59))
    assert not in_time_window(time(22), time(6), time(12))
    assert in_time_window(time(8), time(17), time(8))
    assert not in_time_window(time(8), time(17), time(17))
    assert in_time_window(None, None, time(3))


def test_weekdays_are_iso_and_local():
    # 2026-11-22 is a Sunday (ISO 7) in Berlin; 23:30 UTC on Saturday is already Sunday there.
    saturday_night_utc = datetime(2026, 11, 21, 23, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert is_within_window(camera(capture_weekdays=[7]), saturday_night_utc)
    assert not is_within_window(camera(capture_weekdays=[1, 2, 3, 4, 5, 6]), saturday_night_utc)


def test_daylight_uses_the_sun_where_the_camera_stands():
    berlin = camera(daylight_only=True, latitude=52.52, longitude=13.40)
    noon = datetime(2026, 12, 21, 12, 0, tzinfo=BERLIN)
    midnight = datetime(2026, 12, 21, 0, 30, tzinfo=BERLIN)

    assert is_daylight(berlin, noon)
    assert not is_daylight(berlin, midnight)
    assert is_within_window(berlin, noon)
    assert not is_within_window(berlin, midnight)


def test_sunrise_offset_shifts_the_start():
    # Berlin sunrise on 2026-06-21 is about 04:43; an offset of +120 min starts at about 06:43.
    late = camera(daylight_only=True, latitude=52.52, longitude=13.40, sunrise_offset_minutes=120)
    assert not is_daylight(late, datetime(2026, 6, 21, 5, 30, tzinfo=BERLIN))
    assert is_daylight(late, datetime(2026, 6, 21, 7, 30, tzinfo=BERLIN))


def test_polar_night_and_missing_coordinates():
    tromso = camera(daylight_only=True, latitude=69.65, longitude=18.96, timezone="Europe/Oslo")
    assert not is_daylight(tromso, datetime(2026, 12, 21, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Oslo")))
    assert is_daylight(camera(daylight_only=True), datetime(2026, 12, 21, 0, 0, tzinfo=BERLIN))
