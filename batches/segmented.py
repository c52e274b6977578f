"""A batch rendered day by day from kept segments: the period videos (sharing.periods) stay cheap to refresh.

The batch's selection names a local date range (DAYS: {"from": ISO date or None, "to": ISO date}).
Its frames (timelapse_images) are only the images still to be encoded, put there by stage():
render() encodes each staged day into a BatchSegment, joins every segment of the range with a
stream copy (through a cached join of the earlier days, as batches.continuous does), publishes the
join and empties the frames. An encoded image lives on in its segment file, so the batch no longer
protects it from the retention cleanup (batches.protection protects a completed batch's frames).
A camera with a continuous video has most days encoded already (batches.continuous): a day whose
continuous segment holds the same images with the same look is linked, not encoded again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zoneinfo
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image as PILImage

from batches import continuous, ffmpeg, lifecycle, scrubsprite
from batches.ffmpeg import RenderError, VideoSettings
from batches.frames import (
    captions,
    check_frame,
    data_path,
    day_range,
    day_runs,
    local_day_bounds,
    output_name,
    verify_frames,
    video_settings,
    videos_dir,
)
from batches.models import BatchSegment, DaySegment, TimelapseBatch, TimelapseImage
from common.paths import relative_to_data, remove_media_file

log = logging.getLogger(__name__)
DAYS = "days"
# Kept in the selection across refreshes: the frame size every segment is scaled to (so they
# join by stream copy) and the cached join of all days but the latest.
FRAME_SIZE = "frame_size"
PREFIX = "prefix"


def is_segmented(batch: TimelapseBatch) -> bool:
    return DAYS in (batch.selection or {})


def days_selection(first: date | None, last: date) -> dict:
    """The selection entry for the local days first..last (None: from the first image on)."""
    return {DAYS: {"from": first.isoformat() if first else None, "to": last.isoformat()}}


def segments_dir(batch: TimelapseBatch) -> Path:
    # Not under segments/<camera id>/: that folder is the continuous video's.
    return Path(settings.DATA_DIR) / "segments" / f"batch-{batch.pk}"


def _range(selection: dict) -> tuple[date | None, date]:
    days = selection[DAYS]
    return (date.fromisoformat(days["from"]) if days["from"] else None), date.fromisoformat(days["to"])


def look(camera, fps: int, selection: dict) -> VideoSettings | None:
    """How the segments should look with this selection; None while the frame size is unknown."""
    size = selection.get(FRAME_SIZE)
    return video_settings(camera, tuple(size), fps, selection) if size else None


def look_digest(camera, fps: int, selection: dict) -> str | None:
    """The look's hash, or a readable marker when it cannot be worked out (the render will say why)."""
    try:
        video = look(camera, fps, selection)
    except RenderError as exc:
        return f"error: {exc}"
    return video.digest() if video else None


def stage(batch: TimelapseBatch, images) -> int:
    """Make the batch's frames the images of every day it must (re-)encode; returns how many.

    A day needs encoding when it has an image newer than every encoded one (ids
    only grow, imports too), or when its segment has another look or lost its
    file. A day whose images are gone keeps its segment as it was.
    """
    tz = zoneinfo.ZoneInfo(batch.camera.timezone)
    segments = list(BatchSegment.objects.filter(batch=batch))
    digest = look_digest(batch.camera, batch.frame_rate, batch.selection)
    newest = max((s.max_image_id for s in segments), default=None)
    fresh = images if newest is None else images.filter(id__gt=newest)
    dirty = {at.astimezone(tz).date() for at in fresh.values_list("captured_at", flat=True)}
    dirty |= {
        s.local_date for s in segments if s.settings_hash != digest or not data_path(s.file_path).is_file()
    }
    ids: list[int] = []
    if dirty:
        since = local_day_bounds(min(dirty), tz)[0]
        rows = images.filter(captured_at__gte=since).order_by("captured_at", "id")
        ids = [pk for pk, at in rows.values_list("id", "captured_at") if at.astimezone(tz).date() in dirty]
    with transaction.atomic():
        TimelapseImage.objects.filter(timelapse_batch=batch).delete()
        TimelapseImage.objects.bulk_create(
            (
                TimelapseImage(timelapse_batch=batch, image_id=pk, sequence_order=i)
                for i, pk in enumerate(ids, 1)
            ),
            batch_size=2000,
        )
        TimelapseBatch.objects.filter(pk=batch.pk).update(total_frames=len(ids))
    return len(ids)


def render(batch: TimelapseBatch, workdir: Path) -> None:
    """Encode the staged days, join the range's segments, publish; the frames are then empty."""
    camera = batch.camera
    tz = zoneinfo.ZoneInfo(camera.timezone)
    first, last = _range(batch.selection)
    selection = {**batch.selection}
    heartbeat = lifecycle.Heartbeat(batch)
    staged = TimelapseImage.objects.filter(timelapse_batch=batch)
    if FRAME_SIZE not in selection:
        row = staged.select_related("image").order_by("sequence_order").first()
        if row is None:
            raise RenderError("No images to render yet for this period.")
        path, reason = check_frame(
            row.image.file_path, row.image.file_size_bytes, row.image.file_hash, fetch_to=workdir
        )
        if path is None:
            raise RenderError(f"Cannot size the video: first frame (image {row.image_id}) {reason}.")
        with PILImage.open(path) as image:
            selection[FRAME_SIZE] = list(image.size)
        # Kept at once: segments written by an attempt that fails later stay valid for the next one.
        TimelapseBatch.objects.filter(pk=batch.pk).update(selection=selection)
    video = look(camera, batch.frame_rate, selection)
    folder = segments_dir(batch)
    folder.mkdir(parents=True, exist_ok=True)
    # One attempt renders this batch at a time (the claim), so a partial file is a killed one's.
    for old in folder.glob(".*.part"):
        ffmpeg.remove_quietly(old)
    days = sorted({at.astimezone(tz).date() for at in staged.values_list("image__captured_at", flat=True)})
    for day in days:
        _encode_day(batch, day, tz, video, folder, workdir, heartbeat)
    for gone in BatchSegment.objects.filter(batch=batch).exclude(_in_range(first, last)):
        # Days that left the period (a week or a month moved on) never come back.
        remove_media_file(gone.file_path)
        gone.delete()
    segments = _joinable(batch, first, last, video)
    if not segments:
        raise RenderError("No frames left to render for this period.")
    name = output_name(batch)
    final = videos_dir(camera) / name
    partial = final.with_name(f".{name}.part")
    # Its scrub sprite and cues, published beside it as a batch render's (batches.scrubsprite).
    files = scrubsprite.files(final)
    old_prefix = selection.get(PREFIX)
    try:
        prefix = _valid_prefix(old_prefix, segments)
        ffmpeg.concat(_inputs(prefix, segments), partial, workdir)
        frames = sum(s.frame_count for s in segments)
        scrubsprite.write(files, partial, frames, video.fps, workdir)
        selection[PREFIX] = _extend_prefix(prefix, segments, folder, workdir)
        # Every staged image is in a segment file now: nothing left for the batch to protect.
        staged.delete()
        first_day, last_day = day_range(n for s in segments for n in (s.first_day_number, s.last_day_number))
        published = lifecycle.complete(
            batch,
            partial,
            final,
            frames,
            video.overlay and first_day is not None,
            (first_day, last_day),
            files=files,
            selection=selection,
            day_range_start=first_day,
            day_range_end=last_day,
        )
    finally:
        for path in [partial, *(written for written, _ in files.values())]:
            ffmpeg.remove_quietly(path)
    new_prefix = selection.get(PREFIX)
    if published and old_prefix and old_prefix["path"] != (new_prefix or {}).get("path"):
        # Only this batch's renders read it, and the next one starts after this commit.
        remove_media_file(old_prefix["path"])


def _encode_day(batch, day: date, tz, video: VideoSettings, folder: Path, workdir: Path, heartbeat) -> None:
    start, end = local_day_bounds(day, tz)
    rows = TimelapseImage.objects.filter(
        timelapse_batch=batch, image__captured_at__gte=start, image__captured_at__lt=end
    ).order_by("sequence_order")
    # With media in a bucket the day's frames are downloaded into the work folder (removed with it).
    fetch_to = workdir / f"frames-{day.isoformat()}"
    fetch_to.mkdir()
    frames = verify_frames(batch, rows, heartbeat, fetch_to=fetch_to)
    if not frames:
        # Every staged frame failed its check: the day keeps the segment it had, if any.
        return
    target = folder / f"{day.isoformat()}.mp4"
    partial = target.with_name(f".{target.name}.{batch.attempts}.part")
    scratch = workdir / day.isoformat()
    scratch.mkdir()
    try:
        borrowed = _borrow(batch.camera, day, frames, video, partial)
        if not borrowed:
            ffmpeg.encode(
                [f.path for f in frames],
                partial,
                video,
                day_runs(frames),
                scratch,
                False,
                heartbeat,
                captions(frames, batch.camera) if video.timestamp else None,
            )
        partial.replace(target)
    finally:
        ffmpeg.remove_quietly(partial)
    first_day, last_day = day_range(f.day_number for f in frames)
    # Written only once the file is in place: a segment row always has its file.
    BatchSegment.objects.update_or_create(
        batch=batch,
        local_date=day,
        defaults={
            "settings_hash": video.digest(),
            "frame_count": len(frames),
            "max_image_id": max(f.image_id for f in frames),
            "first_day_number": first_day,
            "last_day_number": last_day,
            "width": video.width,
            "height": video.height,
            "file_path": relative_to_data(target),
            "file_size_bytes": target.stat().st_size,
            "rendered_at": timezone.now(),
        },
    )
    heartbeat.base += len(frames)
    heartbeat(0, force=True)


def _borrow(camera, day: date, frames: list, video: VideoSettings, partial: Path) -> bool:
    """Link the camera's continuous segment of this day instead of encoding it, if it is the same video.

    The same look (settings hash: size, fps, badge, finishing, logo) and exactly the same
    images. A hard link: the continuous video replaces its file by renaming a new one over
    it, which leaves this name on the old one.
    """
    segment = DaySegment.objects.filter(camera=camera, local_date=day, settings_hash=video.digest()).first()
    if segment is None or segment.frame_count != len(frames):
        return False
    source = continuous.current_batch(camera)
    start, end = local_day_bounds(day, zoneinfo.ZoneInfo(camera.timezone))
    theirs = set(
        TimelapseImage.objects.filter(
            timelapse_batch=source, image__captured_at__gte=start, image__captured_at__lt=end
        ).values_list("image_id", flat=True)
    )
    if theirs != {f.image_id for f in frames} or segment.last_captured_at != max(
        f.captured_at for f in frames
    ):
        return False
    try:
        os.link(data_path(segment.file_path), partial)
    except OSError:
        return False  # gone meanwhile, or another file system: encode it
    return True


def _in_range(first: date | None, last: date) -> Q:
    within = Q(local_date__lte=last)
    return within & Q(local_date__gte=first) if first else within


def _joinable(batch, first: date | None, last: date, video: VideoSettings) -> list[BatchSegment]:
    """The range's segments that can join this video: its size, file present, in date order."""
    segments = []
    for segment in BatchSegment.objects.filter(_in_range(first, last), batch=batch).order_by("local_date"):
        if (segment.width, segment.height) != (video.width, video.height):
            # Its images are gone (else it was re-encoded) and it cannot join at another size.
            log.warning("Batch %s: segment %s is %sx%s, left out", batch.pk, segment.local_date,
                        segment.width, segment.height)  # fmt: skip
        elif not data_path(segment.file_path).is_file():
            log.warning("Batch %s: segment %s has lost its file, left out", batch.pk, segment.local_date)
        else:
            segments.append(segment)
    return segments


def _fingerprint(segments: list[BatchSegment]) -> str:
    facts = [
        (s.local_date.isoformat(), s.file_path, s.file_size_bytes, s.rendered_at.isoformat())
        for s in segments
    ]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


def _valid_prefix(prefix: dict | None, segments: list[BatchSegment]) -> dict | None:
    """The cached join, if it is still exactly the first `count` segments (none re-encoded or gone)."""
    if not prefix or prefix["count"] >= len(segments) or not data_path(prefix["path"]).is_file():
        return None
    return prefix if prefix["key"] == _fingerprint(segments[: prefix["count"]]) else None


def _inputs(prefix: dict | None, segments: list[BatchSegment]) -> list[Path]:
    later = segments[prefix["count"] :] if prefix else segments
    return [*([data_path(prefix["path"])] if prefix else []), *(data_path(s.file_path) for s in later)]


def _extend_prefix(
    prefix: dict | None, segments: list[BatchSegment], folder: Path, workdir: Path
) -> dict | None:
    """The join of every day but the latest (the one new captures change), so a refresh joins 2-3 files.

    The concat demuxer probes every input (~30 ms each on a busy 2-core box): without it a
    "whole project" refresh would cost more every day the project runs.
    """
    count = len(segments) - 1
    if count < 2:
        return None
    if prefix and prefix["count"] == count:
        return prefix
    key = _fingerprint(segments[:count])
    target = folder / f"prefix-{count}-{key[:12]}.mp4"
    partial = target.with_name(f".{target.name}.part")
    try:
        ffmpeg.concat(_inputs(prefix, segments[:count]), partial, workdir, faststart=False)
        partial.replace(target)
    finally:
        ffmpeg.remove_quietly(partial)
    return {"path": relative_to_data(target), "count": count, "key": key}
