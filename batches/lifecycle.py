"""A batch's life: claim it, keep its heartbeat, fail, retry, recover, complete.

Status moves pending -> processing -> completed | failed. Every move is a
conditional UPDATE (on status and on the attempt number), so two workers can
never render one batch, and a worker that was given up on cannot overwrite the
result of the attempt that replaced it.

Queueing a render names the task instead of importing batches.tasks: the tasks
import this module, not the other way round.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from celery import signature
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from batches.models import TimelapseBatch
from batches.partials import remove_partial_files
from batches.signals import render_completed, render_failed
from common.paths import relative_to_data

log = logging.getLogger(__name__)
Status = TimelapseBatch.Status
RENDER_TASK = "batches.tasks.render_batch"


class Heartbeat:
    """Writes progress and a heartbeat at most every few seconds while a render runs."""

    def __init__(self, batch: TimelapseBatch, base: int = 0):
        self.batch = batch
        self.base = base
        self.last = 0.0

    def __call__(self, frames_done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < settings.TIMELAPSER_RENDER_HEARTBEAT_SECONDS:
            return
        self.last = now
        TimelapseBatch.objects.filter(pk=self.batch.pk, status=Status.PROCESSING).update(
            frames_done=self.base + frames_done, heartbeat_at=timezone.now()
        )


def claim(batch_id: int) -> TimelapseBatch | None:
    """Move a pending batch to processing; None when another worker has it (or it is not pending)."""
    now = timezone.now()
    claimed = TimelapseBatch.objects.filter(pk=batch_id, status=Status.PENDING).update(
        status=Status.PROCESSING,
        started_at=now,
        heartbeat_at=now,
        completed_at=None,
        frames_done=0,
        error_message=None,
        attempts=F("attempts") + 1,
    )
    return TimelapseBatch.objects.select_related("camera").get(pk=batch_id) if claimed else None


def still_ours(batch: TimelapseBatch):
    return TimelapseBatch.objects.filter(pk=batch.pk, status=Status.PROCESSING, attempts=batch.attempts)


def fail(batch: TimelapseBatch, reason: str) -> bool:
    now = timezone.now()
    failed = bool(
        still_ours(batch).update(
            status=Status.FAILED,
            error_message=reason,
            completed_at=now,
            duration_seconds=(now - batch.started_at).total_seconds() if batch.started_at else None,
        )
    )
    if failed:
        # The attempt is over: a killed encoder's half-written file would stay for good.
        remove_partial_files(batch)
        # Only the call that made the change tells the operator, once, after commit.
        batch.status, batch.error_message = Status.FAILED, reason
        transaction.on_commit(lambda: render_failed.send(sender=TimelapseBatch, batch=batch))
    return failed


def retry(batch: TimelapseBatch) -> bool:
    """Failed -> pending (attempts start over) and queue it; False if it was not failed."""
    done = TimelapseBatch.objects.filter(pk=batch.pk, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, frames_done=0, heartbeat_at=timezone.now()
    )
    if done:
        enqueue(batch.pk)
    return bool(done)


def enqueue(batch_id: int, countdown: float | None = None) -> None:
    """Queue the render once the current transaction commits (the worker must see the row)."""
    task = signature(RENDER_TASK, args=(batch_id,), countdown=countdown)
    transaction.on_commit(task.apply_async)


def recover_stale(now: datetime | None = None) -> dict[str, list[int]]:
    """Processing batches whose heartbeat stopped lost their worker: queue again or give up.
    Pending batches whose task message was lost: queue again.

    Run by beat. A worker killed by SIGKILL or the OOM killer never says so; the
    heartbeat going quiet is the only sign. After TIMELAPSER_RENDER_MAX_ATTEMPTS
    tries the batch fails with the reason, for an operator to retry.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TIMELAPSER_RENDER_STALE_SECONDS)
    outcome: dict[str, list[int]] = {"requeued": [], "failed": []}
    stale = TimelapseBatch.objects.filter(status=Status.PROCESSING, heartbeat_at__lt=cutoff)
    for batch in stale:
        if batch.attempts >= settings.TIMELAPSER_RENDER_MAX_ATTEMPTS:
            reason = (
                f"The render worker stopped responding {batch.attempts} times (killed, out of memory or "
                "restarted); gave up. Use Retry to try again."
            )
            if fail(batch, reason):
                outcome["failed"].append(batch.pk)
            continue
        moved = still_ours(batch).update(
            status=Status.PENDING,
            heartbeat_at=now,
            error_message=f"The render worker stopped responding during attempt {batch.attempts}; queued again.",
        )
        if moved:
            # Before queueing: the next attempt's own .part must not be caught.
            remove_partial_files(batch)
            enqueue(batch.pk)
            outcome["requeued"].append(batch.pk)
    outcome["requeued"] += _requeue_lost_pending(now)
    if outcome["requeued"] or outcome["failed"]:
        log.warning("Stale renders: requeued %s, failed %s", outcome["requeued"], outcome["failed"])
    return outcome


def _requeue_lost_pending(now: datetime) -> list[int]:
    """Pending batches queued longer ago than TIMELAPSER_RENDER_REQUEUE_PENDING_SECONDS.

    A broker that restarts without persistence (Redis with no AOF, a purged
    queue) drops the task message and the batch would stay pending forever. A
    second message for a batch that is merely waiting in a long queue is
    harmless: only one task can claim a pending batch (claim()), the other finds
    it taken and does nothing. heartbeat_at, for a pending batch, is when it was
    last queued; it is bumped here so each batch is requeued at most once per period.
    """
    cutoff = now - timedelta(seconds=settings.TIMELAPSER_RENDER_REQUEUE_PENDING_SECONDS)
    lost = TimelapseBatch.objects.annotate(queued_at=Coalesce("heartbeat_at", "created_at")).filter(
        status=Status.PENDING, queued_at__lt=cutoff
    )
    requeued = []
    for batch_id in lost.values_list("pk", flat=True):
        if TimelapseBatch.objects.filter(pk=batch_id, status=Status.PENDING).update(heartbeat_at=now):
            enqueue(batch_id)
            requeued.append(batch_id)
    return requeued


def complete(batch: TimelapseBatch, partial: Path, final: Path, frames: int, overlay: bool, **extra) -> bool:
    """Publish the finished file under its name and mark the batch completed, if still ours.

    The row lock makes "still ours" and the rename one step: a worker that was
    given up on can never put its file over the replacement attempt's.
    """
    with transaction.atomic():
        mine = still_ours(batch).select_for_update().exists()
        if not mine:
            log.warning("Batch %s was taken over while rendering; discarding this result", batch.pk)
            return False
        partial.replace(final)
        now = timezone.now()
        still_ours(batch).update(
            status=Status.COMPLETED,
            completed_at=now,
            heartbeat_at=now,
            duration_seconds=(now - batch.started_at).total_seconds(),
            file_size_bytes=final.stat().st_size,
            output_filename=final.name,
            output_path=relative_to_data(final),
            frames_done=frames,
            total_frames=frames,
            day_overlay_applied=overlay,
            error_message=None,
            **extra,
        )
        transaction.on_commit(lambda: render_completed.send(sender=TimelapseBatch, batch=batch))
    return True
