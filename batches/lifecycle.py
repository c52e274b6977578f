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

from batches.ffmpeg import video_size
from batches.models import TimelapseBatch
from batches.partials import remove_partial_files
from batches.signals import render_completed, render_failed
from common import mediastore
from common.paths import media_key, relative_to_data, remove_media_files

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


def complete(
    batch: TimelapseBatch,
    partial: Path,
    final: Path,
    frames: int,
    overlay: bool,
    day_range: tuple[int | None, int | None],
    files: dict[str, tuple[Path, Path]] | None = None,
    **extra,
) -> bool:
    """Publish the finished file under its new name and mark the batch completed, if still ours.

    The row lock makes "still ours" and the rename one step: a worker that was
    given up on can never put its file over the replacement attempt's. The
    published_* fields switch in the same transaction, so a share reads either
    the old video's path, size and facts or the new one's, never a mix. `final`
    is always a new name (frames.output_name): the old file stays untouched for
    the responses still reading it, and is retired (see remove_retired_outputs).
    `files` are the video's other renditions, poster and sprite (role -> (written,
    final)); they are renamed and switched in the same step, and retired alike.
    """
    path = relative_to_data(final)
    files = files or {}
    remote = mediastore.remote()
    uploaded: list[str] = []
    if remote:
        # Uploaded before the row lock, so a slow upload holds no lock; a new
        # name every time, so the object under the published name never changes.
        try:
            for written, name in [(partial, final), *files.values()]:
                relative = relative_to_data(name)
                mediastore.upload(media_key(relative), written, content_type(name))
                uploaded.append(relative)
        except mediastore.MediaStoreError:
            remove_media_files(uploaded)
            raise
    with transaction.atomic():
        row = (
            still_ours(batch)
            .select_for_update()
            .values("published_path", "retired_outputs", "published_renditions")
            .first()
        )
        if row is None:
            log.warning("Batch %s was taken over while rendering; discarding this result", batch.pk)
            if remote:
                remove_media_files(uploaded)
            return False
        if remote:
            size = partial.stat().st_size
            partial.unlink()
        else:
            partial.replace(final)
            size = final.stat().st_size
        published = _publish_files(files, remote)
        now = timezone.now()
        retired = list(row["retired_outputs"] or [])
        new_paths = {path, *_rendition_paths(published)}
        for old in [row["published_path"], *_rendition_paths(row["published_renditions"])]:
            if old and old not in new_paths:
                retired.append({"path": old, "retired_at": now.isoformat()})
        first_day, last_day = day_range
        still_ours(batch).update(
            status=Status.COMPLETED,
            completed_at=now,
            heartbeat_at=now,
            duration_seconds=(now - batch.started_at).total_seconds(),
            file_size_bytes=size,
            output_filename=final.name,
            output_path=path,
            frames_done=frames,
            total_frames=frames,
            day_overlay_applied=overlay,
            error_message=None,
            published_path=path,
            published_size_bytes=size,
            published_at=now,
            published_frames=frames,
            published_day_overlay=overlay,
            published_day_range_start=first_day,
            published_day_range_end=last_day,
            retired_outputs=retired,
            published_renditions=published or None,
            **extra,
        )
        transaction.on_commit(lambda: render_completed.send(sender=TimelapseBatch, batch=batch))
    remove_retired_outputs(TimelapseBatch.objects.filter(pk=batch.pk))
    return True


CONTENT_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".vtt": "text/vtt; charset=utf-8"}


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix, "application/octet-stream")


def _publish_files(files: dict[str, tuple[Path, Path]], remote: bool) -> dict:
    """Put each written file under its published name (renamed on disk; in a bucket it was
    uploaded already and the local copy goes); the row value that describes them."""
    published: dict = {}
    for role, (written, final) in files.items():
        relative = relative_to_data(final)
        local = written if remote else final
        if not remote:
            written.replace(final)
        if final.suffix == ".mp4":
            width, height = video_size(local)
            published[role] = {
                "path": relative,
                "size": local.stat().st_size,
                "width": width,
                "height": height,
            }
        else:
            published[role] = relative
        if remote:
            local.unlink(missing_ok=True)
    return published


def _rendition_paths(renditions: dict | None) -> list[str]:
    """Every file path a published_renditions value names."""
    paths = []
    for value in (renditions or {}).values():
        paths.append(value["path"] if isinstance(value, dict) else value)
    return paths


def retirement_cutoff(now: datetime | None = None) -> datetime:
    """Files replaced before this time can no longer be in any response's way."""
    return (now or timezone.now()) - timedelta(seconds=settings.TIMELAPSER_RETIRED_OUTPUT_GRACE_SECONDS)


def remove_retired_outputs(batches=None, now: datetime | None = None) -> int:
    """Delete the replaced videos whose grace period is over; returns how many files went.

    Why a grace period and not unlink at once: a response that already has the
    old file open keeps reading it after an unlink (POSIX frees the inode when
    the last descriptor closes), but a request that read the old published_path
    a moment before the switch opens the file a moment after it, and behind
    nginx (SHARING_FILE_OFFLOAD) the proxy opens it later still. The grace
    period (TIMELAPSER_RETIRED_OUTPUT_GRACE_SECONDS) is far longer than either gap.
    Called after each publish and by the cleanup, so a camera that stops
    rendering loses its old files too.
    """
    cutoff = retirement_cutoff(now)
    batches = TimelapseBatch.objects.all() if batches is None else batches
    removable: list[str] = []
    for pk in batches.filter(retired_outputs__isnull=False).values_list("pk", flat=True):
        with transaction.atomic():
            batch = TimelapseBatch.objects.select_for_update().filter(pk=pk).first()
            retired = list(batch.retired_outputs or []) if batch else []
            expired = [r for r in retired if datetime.fromisoformat(r["retired_at"]) < cutoff]
            if not expired:
                continue
            kept = [r for r in retired if r not in expired]
            TimelapseBatch.objects.filter(pk=pk).update(retired_outputs=kept or None)
            removable += [r["path"] for r in expired]
    # Never a file a batch still publishes (an operator's hand-edited row, a shared path).
    in_use = set(
        TimelapseBatch.objects.filter(published_path__in=removable).values_list("published_path", flat=True)
    )
    return remove_media_files(p for p in removable if p not in in_use)
