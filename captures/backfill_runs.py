"""Backfill runs: what the admin starts and watches, and the command runs in place.

`start` records a run and queues it for the maintenance worker (it waits on the console for
minutes to hours, so never in a web request); `execute` does the run, writing its counters to the
row as captures/backfill.py reports progress. The command calls `execute` directly, so both ways
go through the same code and leave the same row behind.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from cameras.models import Camera
from captures.backfill import BackfillRefused, Report, fill_gaps
from captures.models import BackfillRun
from captures.sources import CaptureError

logger = logging.getLogger(__name__)

# A queued or running run whose row has not moved for this long lost its worker (a restart):
# it no longer stops a new run of the camera. Progress is written every ten slots.
STALE_AFTER = timedelta(minutes=15)
MAX_RANGE = timedelta(days=31)
TASK = "captures.tasks.run_backfill"


class RunRefused(Exception):
    """This run cannot start; the message says why."""


def parse_when(text: str, tz_name: str, end: bool) -> datetime:
    """YYYY-MM-DD (the whole day, in the camera's time zone) or YYYY-MM-DDTHH:MM; ValueError says why."""
    try:
        if len(text) == 10:
            return day_bound(datetime.strptime(text, "%Y-%m-%d").date(), tz_name, end)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM).") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zoneinfo.ZoneInfo(tz_name))


def day_bound(day: date, tz_name: str, end: bool) -> datetime:
    """The start of `day` in the camera's time zone, or (end) the start of the next: a day range includes its last day."""
    return datetime.combine(
        day + timedelta(days=1) if end else day, time(), tzinfo=zoneinfo.ZoneInfo(tz_name)
    )


def check_range(camera: Camera, start: datetime, end: datetime) -> None:
    if camera.console_id is None or not camera.protect_camera_id:
        raise RunRefused("Only cameras added from a UniFi Protect console have recordings to fill from.")
    if end <= start:
        raise RunRefused("The end must be after the start.")
    if end - start > MAX_RANGE:
        raise RunRefused(f"At most {MAX_RANGE.days} days at a time: a longer range is several runs.")
    if start >= timezone.now():
        raise RunRefused("That range is in the future: there are no recordings of it yet.")


def active_run(camera: Camera) -> BackfillRun | None:
    """The camera's run still queued or working (one at a time: two would share one budget for nothing)."""
    return (
        BackfillRun.objects.filter(
            camera=camera,
            state__in=[BackfillRun.State.QUEUED, BackfillRun.State.RUNNING],
            updated_at__gte=timezone.now() - STALE_AFTER,
        )
        .order_by("-created_at")
        .first()
    )


def start(camera: Camera, start_at: datetime, end_at: datetime, user=None) -> BackfillRun:
    """Record a run and queue it on the maintenance worker once the row is committed."""
    check_range(camera, start_at, end_at)
    with transaction.atomic():
        # Locks the camera row, so two operators clicking at once make one run, not two.
        Camera.objects.select_for_update().filter(pk=camera.pk).first()
        running = active_run(camera)
        if running is not None:
            raise RunRefused(
                f"A run of this camera is already {running.get_state_display().lower()} (#{running.pk})."
            )
        run = BackfillRun.objects.create(
            camera=camera, range_start=start_at, range_end=end_at, started_by=user
        )
        transaction.on_commit(lambda: _queue(run.pk))
    return run


def _queue(run_id: int) -> None:
    # The registered task by name (captures.tasks imports this module); unlike send_task, the
    # task object honours task_always_eager, so tests can run it in-process.
    current_app.tasks[TASK].delay(run_id)


def _write(run: BackfillRun, report: Report) -> None:
    run.slots_total = report.slots
    run.slots_filled = report.filled
    run.slots_skipped = report.already
    run.slots_failed = report.no_recording
    run.save(update_fields=["slots_total", "slots_filled", "slots_skipped", "slots_failed", "updated_at"])


def execute(run: BackfillRun, progress: Callable[[Report], None] | None = None) -> BackfillRun:
    """Run it: every empty slot of the range is asked for once; the row says how far it got and why it stopped."""
    if run.finished:
        return run  # a redelivered task: the work is done and its outcome stays as it was
    run.state, run.started_at, run.error = BackfillRun.State.RUNNING, timezone.now(), ""
    run.save(update_fields=["state", "started_at", "error", "updated_at"])

    last: list[Report] = []  # fill_gaps counts in one Report; a failed run still shows how far it got

    def report_progress(report: Report) -> None:
        last[:] = [report]
        _write(run, report)
        if progress is not None:
            progress(report)

    try:
        report = fill_gaps(run.camera, run.range_start, run.range_end, progress=report_progress)
    except BackfillRefused as exc:
        run.state, run.error = BackfillRun.State.FAILED, str(exc)
    except CaptureError as exc:
        # Network trouble or TLS refusal: the reason names the console, never its key or password.
        run.state, run.error = BackfillRun.State.FAILED, f"The console could not be asked: {exc.reason}"
    except Exception:
        logger.exception("backfill run %s failed", run.pk)
        run.state, run.error = (
            BackfillRun.State.FAILED,
            "An unexpected error stopped the run; the worker's log has it.",
        )
    else:
        _write(run, report)
        run.state = BackfillRun.State.DONE
    if run.state == BackfillRun.State.FAILED and last:
        _write(run, last[0])
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "error", "finished_at", "updated_at"])
    return run
