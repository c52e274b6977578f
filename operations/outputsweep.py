"""Sweep the videos and segments of batches and cameras that no longer exist.

Deleting a batch (the admin, a camera's deletion cascading in the database) removes
rows only: its published video, renditions, poster and sprite, and a period video's
day segments stayed on disk or in the bucket for good. Each of those files names its
owner, so the sweep needs no list of every path a live batch refers to (a list that
would have to know every kind of file a render writes, and delete a live one when a
new kind was forgotten). It removes only files whose owner row is gone:

- videos/<camera>/<slug>-<type>-<batch id>-<time>...: the batch with that id;
- segments/batch-<batch id>/...: a period video's batch (batches.segmented);
- segments/<camera id>/...: a camera's continuous day segments.

Files younger than TIMELAPSER_ORPHAN_GRACE_HOURS are left, as in the image sweep: a
render writes its files before its row says so. Everything goes through the one path
guard (common.paths.remove_media_files), locally or in the bucket.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings

from batches.frames import output_batch_id
from batches.models import TimelapseBatch
from cameras.models import Camera
from common import mediastore
from common.paths import UnsafePath, media_path, remove_media_files

log = logging.getLogger(__name__)

FOLDERS = ("videos", "segments")
QUERY_CHUNK = 5000


def owner_of(relative: str) -> tuple[str, int] | None:
    """("batch" or "camera", id) a media path belongs to; None for a path we do not recognise."""
    parts = relative.split("/")
    if parts[0] == "videos" and len(parts) == 3:
        batch_id = output_batch_id(parts[2])
        return ("batch", batch_id) if batch_id is not None else None
    if parts[0] == "segments" and len(parts) >= 3:
        folder = parts[1]
        if folder.startswith("batch-") and folder[6:].isdigit():
            return "batch", int(folder[6:])
        if folder.isdigit():
            return "camera", int(folder)
    return None


def _local_listing(folder: str) -> Iterator[tuple[str, int, float]]:
    root = Path(settings.DATA_DIR)
    for dirpath, _dirnames, filenames in os.walk(root / folder):
        here = Path(dirpath)
        for name in filenames:
            with contextlib.suppress(FileNotFoundError):
                stat = (here / name).stat()
                yield (here / name).relative_to(root).as_posix(), stat.st_size, stat.st_mtime


def _existing(model, ids: set[int]) -> set[int]:
    found: set[int] = set()
    ordered = sorted(ids)
    for i in range(0, len(ordered), QUERY_CHUNK):
        chunk = ordered[i : i + QUERY_CHUNK]
        found.update(model.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def _orphans(entries: Iterator[tuple[str, int, float]], grace: float) -> list[tuple[str, int]]:
    """The (path, size) of listed files older than `grace` whose batch or camera row is gone."""
    candidates: list[tuple[tuple[str, int], str, int]] = []
    for relative, size, modified in entries:
        owner = owner_of(relative)
        if owner is not None and modified < grace:
            candidates.append((owner, relative, size))
    alive = {
        "batch": _existing(TimelapseBatch, {pk for (kind, pk), _, _ in candidates if kind == "batch"}),
        "camera": _existing(Camera, {pk for (kind, pk), _, _ in candidates if kind == "camera"}),
    }
    return [(relative, size) for (kind, pk), relative, size in candidates if pk not in alive[kind]]


def sweep_orphan_outputs(*, now: datetime, dry_run: bool) -> tuple[int, int]:
    """Remove old video and segment files whose batch or camera row is gone; (files, bytes)."""
    grace = (now - timedelta(hours=settings.TIMELAPSER_ORPHAN_GRACE_HOURS)).timestamp()
    listing = mediastore.listing if mediastore.remote() else _local_listing
    try:
        orphans = _orphans((entry for folder in FOLDERS for entry in listing(folder)), grace)
    except mediastore.MediaStoreError as exc:
        # The rest of the cleanup still runs; the next run lists again from the start.
        log.warning("video sweep stopped: %s", exc)
        return 0, 0
    if orphans and not dry_run:
        remove_media_files(relative for relative, _ in orphans)
        if not mediastore.remote():
            _remove_empty_folders({relative.rpartition("/")[0] for relative, _ in orphans})
    if mediastore.remote():
        _sweep_local_segments(grace, dry_run)
    return len(orphans), sum(size for _, size in orphans)


def _sweep_local_segments(grace: float, dry_run: bool) -> None:
    """With a bucket, the render host's own segment files of owners that are gone.

    A period video's segments are never uploaded and a continuous video's have a local
    working copy: listing only the bucket, a deleted batch's or camera's days stayed on
    this disk for good. Counted apart from the bucket's (they are not media the bucket holds).
    """
    orphans = _orphans(_local_listing("segments"), grace)
    if dry_run or not orphans:
        return
    for relative, _ in orphans:
        with contextlib.suppress(UnsafePath, OSError):
            media_path(relative).unlink(missing_ok=True)
    _remove_empty_folders({relative.rpartition("/")[0] for relative, _ in orphans})


def _remove_empty_folders(folders: set[str]) -> None:
    """The emptied folders of owners that are gone: segments/batch-<id>/, segments/<camera>/,
    videos/<camera>/ of a deleted camera (a live camera's may be about to get a render's file)."""
    root = Path(settings.DATA_DIR)
    cameras = {str(pk) for pk in Camera.objects.values_list("pk", flat=True)}
    for folder in folders:
        parts = folder.split("/")
        if len(parts) != 2 or parts[0] not in FOLDERS or (parts[0] == "videos" and parts[1] in cameras):
            continue
        with contextlib.suppress(OSError):  # rmdir refuses a folder that is not empty
            (root / folder).rmdir()
