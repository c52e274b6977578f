"""The half-written files a render leaves while it runs, and their removal when it stops for good.

An encoder writes under a dot-name ending in `.part` and renames it when done
(batches.render, batches.continuous). A worker killed mid-way (SIGKILL, the OOM
killer) never reaches its own clean-up, so whoever next decides the attempt is
over (lifecycle.fail, lifecycle.recover_stale) removes them, or they would fill
the disk one dead render at a time.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.conf import settings

from batches.models import TimelapseBatch
from common import mediastore
from common.paths import UnsafePath, media_path, relative_to_data, remove_media_files


def partial_files(batch: TimelapseBatch) -> list[Path]:
    """Every `.part` file of this batch's renders, whichever attempt wrote it.

    The names, as render.py and continuous.py write them (every render has a new
    name, frames.output_name): videos/<camera>/.<slug>-<type>-<id>-<time>.mp4.<attempt>.part
    (plain batches; .<slug>-<type>-<id>.mp4.<attempt>.part before renders were
    named by time), videos/<camera>/.<slug>-continuous-<id>-<time>.mp4.part and
    segments/<camera>/.*.part (a camera's one continuous batch renders its day
    segments and prefix there; a period video's batch under segments/batch-<id>/).
    Matched without the slug: the camera may have been renamed since.
    """
    data = Path(settings.DATA_DIR)
    videos = data / "videos" / str(batch.camera_id)
    if batch.batch_type == TimelapseBatch.BatchType.CONTINUOUS:
        return [
            *videos.glob(f".*-continuous-{batch.pk}-*.part"),
            *(data / "segments" / str(batch.camera_id)).glob(".*.part"),
        ]
    kind = f"{batch.batch_type}-{batch.pk}"
    # A segmented batch (batches.segmented) also writes its days and prefix in its own folder.
    segments = (data / "segments" / f"batch-{batch.pk}").glob(".*.part")
    return [*segments, *videos.glob(f".*-{kind}-*.part"), *videos.glob(f".*-{kind}.mp4.*.part")]


def remove_partial_files(batch: TimelapseBatch) -> int:
    """Delete the batch's `.part` files (through the media path guard); how many went."""
    if not mediastore.remote():
        return remove_media_files(relative_to_data(path) for path in partial_files(batch))
    # With media in a bucket the half-written files are still local (only finished ones are
    # uploaded), so they are unlinked here rather than deleted as bucket keys.
    removed = 0
    for path in partial_files(batch):
        with contextlib.suppress(UnsafePath, FileNotFoundError):
            media_path(relative_to_data(path)).unlink()
            removed += 1
    return removed
