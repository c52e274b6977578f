"""Project-wide maintenance tasks (queue "maintenance", see settings): thin wrappers."""

from __future__ import annotations

import logging

from celery import shared_task

from captures import retention
from captures.cleanup import CleanupBusy, run_cleanup
from timelapser import notify

log = logging.getLogger(__name__)


@shared_task(name="timelapser.tasks.nightly_cleanup")
def nightly_cleanup(camera_names: list[str] | None = None) -> int:
    """Apply the retention policies (every camera's, or just these); returns how many images went.

    Beat runs it nightly; the admin's "Run cleanup now" queues it with the cameras chosen.
    """
    from timelapser.cleanup_preview import record_run

    try:
        report = run_cleanup(camera_names=camera_names)
    except CleanupBusy:
        log.info("cleanup skipped: another run holds the lock")
        return 0
    record_run(report, camera_names)
    return report.deleted


@shared_task(name="timelapser.tasks.preview_cleanup")
def preview_cleanup(camera_names: list[str], token: str) -> None:
    """The admin's "Run cleanup now" preview: a dry run, saved for the page (cleanup_preview)."""
    from timelapser.cleanup_preview import run_preview

    run_preview(camera_names, token)


@shared_task(name="timelapser.tasks.check_disk_space")
def check_disk_space() -> bool:
    """Every few minutes: when free space under DATA_DIR is low, clean up now.

    Captures go on regardless (the capture side handles a failed write); this
    only runs the normal policy early instead of waiting for the night. The
    condition itself is captures.retention.disk_low(), which the admin shows.
    """
    status = retention.disk_status()
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
