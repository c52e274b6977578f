"""A camera's time zone by name, read leniently: pages must not fail over a bad name."""

from __future__ import annotations

import zoneinfo

UTC = zoneinfo.ZoneInfo("UTC")


def zone_or_utc(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone `name` names, or UTC when it names none (the model validates names on save)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC
