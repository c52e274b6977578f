"""Rendering a batch: claim it, check its frames, encode, and record the outcome truthfully.

Status moves pending -> processing -> completed | failed. Every move is a
conditional UPDATE (on status and on the attempt number), so two workers can
never render one batch, and a worker that was given up on cannot overwrite the
result of the attempt that replaced it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image as PILImage

from batches import ffmpeg
from batches.ffmpeg import RenderError, VideoSettings
from batches.models import TimelapseBatch, TimelapseImage
from cameras.models import Camera

log = logging.getLogger(__name__)
Status = TimelapseBatch.Status


@dataclass
class Frame:
    image_id: int
    sequence_order: int
    path: Path
    day_number: int | None
    captured_at: datetime


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


def data_path(relative: str) -> Path:
    """A data-dir relative path made absolute; refuses paths that climb out of the data dir."""
    # normpath, not resolve: ".." cannot climb out, but an operator may symlink
    # the images folder onto another disk.
    root = Path(os.path.abspath(settings.DATA_DIR))  # noqa: PTH100
    path = Path(os.path.normpath(root / relative))
    if not path.is_relative_to(root):
        raise RenderError(f"Path outside the data directory: {relative}")
    return path


def relative_to_data(path: Path) -> str:
    return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(settings.DATA_DIR)))  # noqa: PTH100


# --- Status machine -------------------------------------------------------------


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
        # Only the call that made the change tells the operator, once, after commit.
        from timelapser.notify import notify_render_failed

        batch.status, batch.error_message = Status.FAILED, reason
        transaction.on_commit(lambda: notify_render_failed(batch))
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
    from batches.tasks import render_batch

    transaction.on_commit(lambda: render_batch.apply_async((batch_id,), countdown=countdown))


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


# --- Integrity ------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_frame(file_path: str, size: int, file_hash: str | None) -> tuple[Path | None, str | None]:
    """(path, None) when the file is there and intact, else (None, why not)."""
    try:
        path = data_path(file_path)
    except RenderError as exc:
        return None, str(exc)
    if not path.is_file():
        return None, "missing file"
    actual = path.stat().st_size
    if actual != size:
        return None, f"size mismatch ({actual} bytes on disk, {size} recorded)"
    # An image stored without a checksum (old imports) can only be checked by size.
    if file_hash and sha256_file(path) != file_hash.lower():
        return None, "checksum mismatch (file changed or corrupt)"
    return path, None


def verify_frames(batch: TimelapseBatch, rows=None, heartbeat: Heartbeat | None = None) -> list[Frame]:
    """The batch's frames that pass the integrity check, in sequence order.

    Bad frames are removed from the batch (so the video still holds exactly one
    frame per timelapse_images row), recorded in dropped_frames with the reason,
    and the rest renumbered 1..N.
    """
    if rows is None:
        rows = TimelapseImage.objects.filter(timelapse_batch=batch).order_by("sequence_order")
    rows = rows.values_list(
        "image_id",
        "sequence_order",
        "image__file_path",
        "image__file_size_bytes",
        "image__file_hash",
        "image__day_number",
        "image__captured_at",
    )
    good: list[Frame] = []
    dropped: list[dict] = []
    for image_id, order, file_path, size, file_hash, day, captured_at in rows.iterator(chunk_size=2000):
        path, reason = check_frame(file_path, size, file_hash)
        if reason:
            dropped.append({"image_id": image_id, "sequence_order": order, "reason": reason})
        else:
            good.append(Frame(image_id, order, path, day, captured_at))
        if heartbeat:
            heartbeat(0)
    if dropped:
        _drop(batch, dropped)
        order_of = dict(
            TimelapseImage.objects.filter(
                timelapse_batch=batch, image_id__in=[f.image_id for f in good]
            ).values_list("image_id", "sequence_order")
        )
        for frame in good:
            frame.sequence_order = order_of[frame.image_id]
    return good


def _drop(batch: TimelapseBatch, dropped: list[dict]) -> None:
    with transaction.atomic():
        frames = TimelapseImage.objects.filter(timelapse_batch=batch)
        frames.filter(image_id__in=[d["image_id"] for d in dropped]).delete()
        # Renumber 1..N in two steps: first above every current number, so the
        # unique (batch, sequence_order) never sees two rows with one number.
        top = frames.aggregate(top=Max("sequence_order"))["top"] or 0
        frames.update(sequence_order=F("sequence_order") + top)
        rows = list(frames.order_by("sequence_order").only("pk", "sequence_order"))
        for i, row in enumerate(rows, start=1):
            row.sequence_order = i
        TimelapseImage.objects.bulk_update(rows, ["sequence_order"], batch_size=2000)
        batch.refresh_from_db(fields=["dropped_frames"])
        batch.dropped_frames = [*batch.dropped_frames, *dropped]
        batch.total_frames = len(rows)
        batch.save(update_fields=["dropped_frames", "total_frames"])
    log.warning("Batch %s: %d frame(s) left out by the integrity check", batch.pk, len(dropped))


# --- Video settings -------------------------------------------------------------


def video_settings(camera: Camera, first_frame: Path | tuple[int, int], fps: int) -> VideoSettings:
    if isinstance(first_frame, Path):
        with PILImage.open(first_frame) as image:
            size = image.size
    else:
        size = first_frame
    width, height = ffmpeg.output_size(*size, camera.rotation, camera.render_max_width)
    style = ffmpeg.clean_style(camera.day_overlay_style)
    return VideoSettings(
        width=width,
        height=height,
        rotation=camera.rotation,
        fps=fps,
        overlay=camera.day_counter_enabled,
        position=camera.day_overlay_position,
        style=tuple(sorted(style.items())),
        preset=settings.TIMELAPSER_RENDER_PRESET,
        crf=settings.TIMELAPSER_RENDER_CRF,
        day_origin=str(camera.day_counter_start_date or ""),
    )


def day_runs(frames: list[Frame]) -> list[tuple[int, int, int]]:
    """(first index, last index, day) for each run of frames with one day number; unnumbered frames get none."""
    runs: list[tuple[int, int, int]] = []
    for i, frame in enumerate(frames):
        if frame.day_number is None:
            continue
        if runs and runs[-1][2] == frame.day_number and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i, frame.day_number)
        else:
            runs.append((i, i, frame.day_number))
    return runs


def videos_dir(camera: Camera) -> Path:
    path = Path(settings.DATA_DIR) / "videos" / str(camera.pk)
    path.mkdir(parents=True, exist_ok=True)
    return path


def workdir_for(batch: TimelapseBatch) -> Path:
    tmp = Path(settings.DATA_DIR) / "tmp"
    # Leftovers of earlier attempts whose worker was killed before it could tidy up.
    for old in tmp.glob(f"render-{batch.pk}-*"):
        shutil.rmtree(old, ignore_errors=True)
    path = tmp / f"render-{batch.pk}-{batch.attempts}"
    path.mkdir(parents=True)
    return path


def output_name(batch: TimelapseBatch) -> str:
    slug = slugify(batch.camera.name) or "camera"
    if batch.batch_type == TimelapseBatch.BatchType.CONTINUOUS:
        # A new name per update: a viewer streaming the previous file keeps it until it is replaced.
        return f"{slug}-continuous-{batch.pk}-{timezone.now():%Y%m%d-%H%M%S-%f}.mp4"
    return f"{slug}-{batch.batch_type}-{batch.pk}.mp4"


# --- The render -----------------------------------------------------------------


def render_batch(batch_id: int) -> TimelapseBatch | None:
    """Claim and render one batch; returns it in its final state, None if it was not pending."""
    batch = claim(batch_id)
    if batch is None:
        log.info("Batch %s is not pending (taken by another worker, done, or gone)", batch_id)
        return None
    workdir = workdir_for(batch)
    try:
        if batch.batch_type == TimelapseBatch.BatchType.CONTINUOUS:
            from batches import continuous

            continuous.update(batch, workdir)
        else:
            _render_frames(batch, workdir)
    except (RenderError, OSError) as exc:
        reason = str(exc) if isinstance(exc, RenderError) else f"{exc.strerror or exc} while rendering"
        log.warning("Batch %s failed: %s", batch.pk, reason)
        fail(batch, reason)
    except Exception as exc:
        fail(batch, f"Unexpected error ({type(exc).__name__}); see the worker log.")
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    batch.refresh_from_db()
    if batch.batch_type == TimelapseBatch.BatchType.CONTINUOUS and batch.status == Status.COMPLETED:
        from batches import continuous

        continuous.follow_up(batch)
    return batch


def _render_frames(batch: TimelapseBatch, workdir: Path) -> None:
    heartbeat = Heartbeat(batch)
    frames = verify_frames(batch, heartbeat=heartbeat)
    batch.refresh_from_db(fields=["total_frames", "dropped_frames"])
    if not frames:
        raise RenderError(
            f"No frames left to render: all {len(batch.dropped_frames)} were dropped by the integrity "
            "check (see dropped frames)."
        )
    video = video_settings(batch.camera, frames[0].path, batch.frame_rate)
    name = output_name(batch)
    final = videos_dir(batch.camera) / name
    partial = final.with_name(f".{name}.{batch.attempts}.part")
    for old in final.parent.glob(f".{name}.*.part"):
        ffmpeg.remove_quietly(old)
    runs = day_runs(frames)
    try:
        ffmpeg.encode([f.path for f in frames], partial, video, runs, workdir, on_progress=heartbeat)
        complete(batch, partial, final, len(frames), video.overlay and bool(runs))
    finally:
        ffmpeg.remove_quietly(partial)


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
    return True
