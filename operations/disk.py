"""Free space on the data disk: the admin banner and the low-disk check both ask here."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class DiskStatus:
    total_bytes: int
    free_bytes: int
    free_percent: float
    threshold_percent: float

    @property
    def low(self) -> bool:
        return self.free_percent < self.threshold_percent


def disk_status() -> DiskStatus:
    """Free space on the file system that holds DATA_DIR."""
    usage = shutil.disk_usage(settings.DATA_DIR)
    return DiskStatus(
        total_bytes=usage.total,
        free_bytes=usage.free,
        free_percent=100.0 * usage.free / usage.total if usage.total else 0.0,
        threshold_percent=settings.TIMELAPSER_DISK_LOW_PERCENT,
    )


def disk_low() -> bool:
    """True when free space under DATA_DIR is below TIMELAPSER_DISK_LOW_PERCENT (admin banner)."""
    return disk_status().low
