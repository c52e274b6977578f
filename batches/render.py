"""Rendering a batch: claim it, check its frames, encode, and publish the outcome.

The dispatcher: plain batches are encoded here, continuous ones by batches.continuous, period
videos (a date range of days) by batches.segmented.
The status moves live in batches.lifecycle, the frame checks in batches.frames.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from batches import continuous, ffmpeg, renditions, segmented
from batches.ffmpeg import RenderError
from batches.frames import (
    captions,
    day_range,
    day_runs,
    output_name,
    verify_frames,
    video_settings,
    videos_dir,
    workdir_for,
)
from batches.lifecycle import Heartbeat, claim, complete, fail
from batches.models import TimelapseBatch
from batches.partials import partial_files

log = logging.getLogger(__name__)
Status = TimelapseBatch.Status


def render_batch(batch_id: int) -> TimelapseBatch | None:
    """Claim and render one batch; returns it in its final state, None if it was not pending."""
    batch = claim(batch_id)
    if batch is None:
        log.info("Batch %s is not pending (taken by another worker, done, or gone)", batch_id)
        return None
    workdir = workdir_for(batch)
    try:
        if batch.batch_type == TimelapseBatch.BatchType.CONTINUOUS:
            continuous.update(batch, workdir)
        elif segmented.is_segmented(batch):
            segmented.render(batch, workdir)
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
        continuous.follow_up(batch)
    return batch


def _render_frames(batch: TimelapseBatch, workdir: Path) -> None:
    heartbeat = Heartbeat(batch)
    # With media in a bucket the frames are downloaded into the work folder
    # (removed with it when the render ends, whatever the outcome).
    fetch_to = workdir / "frames"
    fetch_to.mkdir()
    frames = verify_frames(batch, heartbeat=heartbeat, fetch_to=fetch_to)
    batch.refresh_from_db(fields=["total_frames", "dropped_frames"])
    if not frames:
        raise RenderError(
            f"No frames left to render: all {len(batch.dropped_frames)} were dropped by the integrity "
            "check (see dropped frames)."
        )
    video = video_settings(batch.camera, frames[0].path, batch.frame_rate, batch.selection)
    name = output_name(batch)
    final = videos_dir(batch.camera) / name
    for old in partial_files(batch):
        ffmpeg.remove_quietly(old)
    try:
        kinds = renditions.parse(batch.selection.get("renditions"))
    except renditions.RenditionError as exc:
        raise RenderError(str(exc)) from exc
    plan = renditions.plan(kinds, final, batch.attempts, video.width, video.height, len(frames))
    partial = plan.outputs["full"]
    runs = day_runs(frames)
    try:
        ffmpeg.encode(
            [f.path for f in frames],
            partial,
            video,
            runs,
            workdir,
            on_progress=heartbeat,
            captions=captions(frames, batch.camera) if video.timestamp else None,
            plan=plan,
        )
        (workdir / "sprite.vtt").write_text(plan.sprite.vtt("sprite.jpg", video.fps))
        files = renditions.publishable(plan, workdir / "sprite.vtt")
        days = day_range(f.day_number for f in frames)
        complete(batch, partial, final, len(frames), video.overlay and bool(runs), days, files=files)
    finally:
        for path in [*plan.outputs.values(), plan.poster, plan.sprite_image]:
            ffmpeg.remove_quietly(path)
