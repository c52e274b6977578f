"""Project-wide maintenance tasks (queue "maintenance", see settings): thin wrappers."""

from __future__ import annotations

import logging

from celery import shared_task

from operations import notify
from operations.cleanup import CleanupBusy, run_cleanup
from operations.cleanup_preview import record_run, run_preview
from operations.disk import disk_status

log = logging.getLogger(__name__)


@shared_task(name="operations.tasks.nightly_cleanup")
def nightly_cleanup(camera_names: list[str] | None = None) -> int:
    """Apply the retention policies (every camera's, or just these); returns how many images went.

    Beat runs it nightly; the admin's "Run cleanup now" queues it with the cameras chosen.
    """
    try:
        report = run_cleanup(camera_names=camera_names)
    except CleanupBusy:
        log.info("cleanup skipped: another run holds the lock")
        return 0
    record_run(report, camera_names)
    return report.deleted


@shared_task(name="operations.tasks.preview_cleanup")
def preview_cleanup(camera_names: list[str], token: str) -> None:
    """The admin's "Run cleanup now" preview: a dry run, saved for the page (cleanup_preview)."""
    run_preview(camera_names, token)


@shared_task(name="operations.tasks.check_disk_space")
def check_disk_space() -> bool:
    """Every few minutes: when free space under DATA_DIR is low, clean up now.

    Captures go on regardless (the capture side handles a failed write); this
    only runs the normal policy early instead of waiting for the night. The
    condition itself is operations.disk.disk_status(), which the admin banner shows too.
    """
    status = disk_status()
    if not status.low:
        return False
    log.warning(
        "free disk under the data dir is %.1f%% (below %.1f%%): running cleanup now",
        status.free_percent,
        status.threshold_percent,
    )
    notify.notify_disk_low(status.free_percent)
    nightly_cleanup.delay()
    return True


@shared_task(name="operations.tasks.warn_expiring_shares")
def warn_expiring_shares() -> int:
    return notify.warn_expiring_shares()
