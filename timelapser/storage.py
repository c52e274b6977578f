"""Free space on the data disk, for the admin banner (the cleanup code owns the real policy)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# The cleanup settings define TIMELAPSER_DISK_LOW_PERCENT; this is its default, for use before they do.
DEFAULT_LOW_PERCENT = 5.0


def free_disk_percent(path: Path | str) -> float:
    usage = shutil.disk_usage(path)
    return 100.0 * usage.free / usage.total if usage.total else 100.0


@dataclass(frozen=True)
class DiskStatus:
    low: bool
    free_percent: float


def disk_status() -> DiskStatus:
    """Is the data disk low? Asks captures.retention.disk_low() when the cleanup code provides it."""
    free = free_disk_percent(settings.DATA_DIR)
    try:
        from captures.retention import disk_low
    except ImportError:
        threshold = getattr(settings, "TIMELAPSER_DISK_LOW_PERCENT", DEFAULT_LOW_PERCENT)
        return DiskStatus(low=free < threshold, free_percent=free)
    answer = disk_low()
    # Accept either a bare bool or a (low, ...) tuple, whichever the cleanup code settles on.
    if isinstance(answer, tuple):
        answer = answer[0]
    return DiskStatus(low=bool(answer), free_percent=free)
