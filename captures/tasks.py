"""Celery tasks for captures: thin, by primary key, on the `capture` queue."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import shared_task
from django.utils import timezone

from cameras.models import Camera
from cameras.schedule import capture_window_reason
from captures import backfill_runs, ingest
from captures.models import BackfillRun

logger = logging.getLogger(__name__)


def slot_for(now: datetime, interval_seconds: int) -> datetime:
    """The slot of a capture that came without one: now rounded to the nearest interval.

    Beat names the slot of each tick itself (cameras/beat.py); this is for a call by
    hand and for a message queued before beat did. Rounding, not flooring, so a run
    a hair early or late maps to the same slot; the slot's unique constraint does the rest.
    """
    step = max(1, interval_seconds)
    return datetime.fromtimestamp(round(now.timestamp() / step) * step, UTC)


@shared_task(name="captures.tasks.capture_camera", soft_time_limit=120, time_limit=150)
def capture_camera(camera_id: int, slot_iso: str | None = None) -> str:
    """Capture one scheduled picture. Disabled or out-of-window cameras are skipped
    without an attempt row: nothing was attempted, and the attempts table stays a
    record of the camera's health."""
    # The same row as Camera.objects.get(), without building and compiling the
    # query on every capture (~0.15 ms of CPU, measured with bench/ingest.py).
    camera = next(iter(Camera.objects.raw("SELECT * FROM cameras WHERE id = %s", [camera_id])), None)
    if camera is None:
        logger.info("capture skipped: camera %s is gone", camera_id)
        return "gone"
    if not camera.enabled:
        return "disabled"
    now = timezone.now()
    reason = capture_window_reason(camera, now)
    if reason is not None:
        logger.debug("capture skipped: camera %s %s", camera_id, reason)
        return "outside window"
    backoff = camera.backoff_until()
    if backoff is not None and now < backoff:
        # Offline (console said so): no attempt row, no request; see Camera.backoff_until.
        logger.debug("capture skipped: camera %s offline, next try after %s", camera_id, backoff)
        return "offline, backing off"
    slot = datetime.fromisoformat(slot_iso) if slot_iso else slot_for(now, camera.capture_interval_seconds)
    outcome = ingest.capture(camera, slot=slot)
    if outcome.already_done:
        return "already done"
    if outcome.dropped:
        return "dropped: database unreachable"
    return "ok" if outcome.ok else outcome.attempt.status


@shared_task(name="captures.tasks.run_backfill")
def run_backfill(run_id: int) -> str:
    """Fill a camera's gaps from its console's recordings (captures/backfill_runs.py).

    Routed to the maintenance queue (settings): it waits on the console for minutes to hours and
    must take a maintenance slot, never a place in the capture queue's line.
    """
    run = BackfillRun.objects.select_related("camera").filter(pk=run_id).first()
    if run is None:
        logger.info("backfill skipped: run %s is gone", run_id)
        return "gone"
    return backfill_runs.execute(run).state
