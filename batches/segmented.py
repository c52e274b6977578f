"""A batch rendered day by day from kept segments: the period videos (sharing.periods) stay cheap to refresh.

The batch's selection names a local date range (DAYS: {"from": ISO date or None, "to": ISO date}).
Its frames (timelapse_images) are only the images still to be encoded, put there by stage():
render() encodes each staged day into a BatchSegment, joins every segment of the range with a
stream copy (through a cached join of the earlier days, as batches.continuous does), publishes the
join and empties the frames. An encoded image lives on in its segment file, so the batch no longer
protects it from the retention cleanup (batches.protection protects a completed batch's frames).
A camera with a continuous video has most days encoded already (batches.continuous): a day whose
continuous segment holds the same images with the same look is linked, not encoded again.
A video taller than the web limit also gets a web rendition, as the continuous one does: each day
writes <date>.web.mp4 beside <date>.mp4 from the same decode, and the web segments are joined too.
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

from batches import continuous, ffmpeg, lifecycle, renditions, scrubsprite, segmentstore
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
from common.paths import relative_to_data

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
    return look_summary(camera, fps, selection)[0]


def look_summary(camera, fps: int, selection: dict) -> tuple[str | None, bool]:
    """The look's hash (look_digest) and whether the video it makes has a web rendition
    (False while the look is unknown), from one look at the camera's settings."""
    try:
        video = look(camera, fps, selection)
    except RenderError as exc:
        return f"error: {exc}", False
    if video is None:
        return None, False
    return video.digest(), wants_web(selection, video.width, video.height)


def wants_web(selection: dict, width: int, height: int) -> bool:
    """Whether this video gets a web rendition (renditions.needs_web); an unknown rendition name
    in the selection says no here, the render says why."""
    try:
        kinds = renditions.parse(selection.get("renditions"))
    except renditions.RenditionError:
        return False
    return renditions.needs_web(kinds, width, height)


def _complete(segment: BatchSegment, digest: str | None, web: bool) -> bool:
    """The segment has this look and every file the video needs (its web twin when there is one)."""
    paths = [segment.file_path, *([renditions.web_segment(segment.file_path)] if web else [])]
    return segment.settings_hash == digest and all(data_path(path).is_file() for path in paths)


def stage(batch: TimelapseBatch, images) -> int:
    """Make the batch's frames the images of every day it must (re-)encode; returns how many.

    A day needs encoding when it has an image newer than every encoded one (ids
    only grow, imports too), or when its segment has another look, lost its file
    or lacks the web twin the video needs (made before web renditions, or when the
    web limit was higher). A day whose images are gone keeps its segment as it was.
    """
    tz = zoneinfo.ZoneInfo(batch.camera.timezone)
    segments = list(BatchSegment.objects.filter(batch=batch))
    digest = look_digest(batch.camera, batch.frame_rate, batch.selection)
    newest = max((s.max_image_id for s in segments), default=None)
    fresh = images if newest is None else images.filter(id__gt=newest)
    dirty = {at.astimezone(tz).date() for at in fresh.values_list("captured_at", flat=True)}
    dirty |= {
        s.local_date
        for s in segments
        if not _complete(s, digest, wants_web(batch.selection, s.width, s.height))
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
    try:
        kinds = renditions.parse(selection.get("renditions"))
    except renditions.RenditionError as exc:
        raise RenderError(str(exc)) from exc
    # Taller than the web limit: every day also gets a web segment, from the same decode.
    web = renditions.needs_web(kinds, video.width, video.height)
    folder = segments_dir(batch)
    folder.mkdir(parents=True, exist_ok=True)
    # One attempt renders this batch at a time (the claim), so a partial file is a killed one's.
    for old in folder.glob(".*.part"):
        ffmpeg.remove_quietly(old)
    days = sorted({at.astimezone(tz).date() for at in staged.values_list("image__captured_at", flat=True)})
    for day in days:
        _encode_day(batch, day, tz, video, web, folder, workdir, heartbeat)
    for gone in BatchSegment.objects.filter(batch=batch).exclude(_in_range(first, last)):
        # Days that left the period (a week or a month moved on) never come back.
        segmentstore.remove(gone.file_path)
        segmentstore.remove(renditions.web_segment(gone.file_path))
        gone.delete()
    segments = _joinable(batch, first, last, video)
    if not segments:
        raise RenderError("No frames left to render for this period.")
    lacking = [
        s.local_date for s in segments if web and not data_path(renditions.web_segment(s.file_path)).is_file()
    ]
    if lacking:
        # A day encoded before web renditions (or under a higher web limit) whose images are gone
        # can never get its web segment, and a web join without it would lose that day. This
        # render publishes no web rendition: the share page streams the full video, as before.
        log.info("Batch %s: no web segment for %s, published without a web rendition", batch.pk,
                 ", ".join(d.isoformat() for d in lacking))  # fmt: skip
        web = False
    joins = ["full", *(["web"] if web else [])]
    name = output_name(batch)
    final = videos_dir(camera) / name
    partial = final.with_name(f".{name}.part")
    # Its scrub sprite and cues (and web rendition), published beside it as a batch render's are.
    files = {**scrubsprite.files(final), **({"web": renditions.joined_web_file(final)} if web else {})}
    old_prefix = selection.get(PREFIX) or {}
    try:
        prefix = _valid_prefix(old_prefix, segments, joins)
        for kind in joins:
            ffmpeg.concat(
                _inputs(prefix, segments, kind), files[kind][0] if kind == "web" else partial, workdir
            )
        frames = sum(s.frame_count for s in segments)
        # From the web join when there is one: the thumbnails are small, its key frames decode faster.
        scrubsprite.write(files, files["web"][0] if web else partial, frames, video.fps, workdir)
        selection[PREFIX] = _extend_prefix(prefix, segments, folder, workdir, joins)
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
    new_prefix = selection.get(PREFIX) or {}
    if published:
        # Only this batch's renders read a prefix, and the next one starts after this commit.
        for kind in ("full", "web"):
            key = renditions.prefix_key(kind)
            if old_prefix.get(key) and old_prefix[key] != new_prefix.get(key):
                segmentstore.remove(old_prefix[key])


def _encode_day(
    batch, day: date, tz, video: VideoSettings, web: bool, folder: Path, workdir: Path, heartbeat
) -> None:
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
    web_target = target.with_name(renditions.web_segment(target.name))
    plan = renditions.segment_plan(
        target.with_name(f".{target.name}.{batch.attempts}.part"),
        web_target.with_name(f".{web_target.name}.{batch.attempts}.part") if web else None,
        video.width,
        video.height,
    )
    scratch = workdir / day.isoformat()
    scratch.mkdir()
    try:
        if not _borrow(batch.camera, day, frames, video, plan.outputs):
            ffmpeg.encode(
                [f.path for f in frames],
                plan.outputs["full"],
                video,
                day_runs(frames),
                scratch,
                on_progress=heartbeat,
                captions=captions(frames, batch.camera) if video.timestamp else None,
                plan=plan,
            )
        if "web" in plan.outputs:
            plan.outputs["web"].replace(web_target)
        elif web_target.exists():
            # A web segment left from a look that had one would later be joined as this day's.
            segmentstore.remove(relative_to_data(web_target))
        plan.outputs["full"].replace(target)
    finally:
        for path in plan.outputs.values():
            ffmpeg.remove_quietly(path)
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


def _borrow(camera, day: date, frames: list, video: VideoSettings, outputs: dict[str, Path]) -> bool:
    """Link the camera's continuous segment of this day instead of encoding it, if it is the same video.

    The same look (settings hash: size, fps, badge, finishing, logo) and exactly the same
    images. A hard link: the continuous video replaces its file by renaming a new one over
    it, which leaves this name on the old one. `outputs` are the partials to link (kind ->
    path): with a web one the continuous day's web segment is linked too, and a day that
    has none is encoded.
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
        for kind, partial in outputs.items():
            os.link(data_path(renditions.segment_file(segment.file_path, kind)), partial)
    except OSError:
        # Gone meanwhile, no web segment, another file system: encode it. The links made go
        # first, or the encoder would write through them into the continuous video's files.
        for partial in outputs.values():
            ffmpeg.remove_quietly(partial)
        return False
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


def _valid_prefix(prefix: dict, segments: list[BatchSegment], joins: list[str]) -> dict | None:
    """The cached join, if it is still exactly the first `count` segments (none re-encoded or gone),
    with a join of every rendition this video needs."""
    if not prefix or prefix["count"] >= len(segments):
        return None
    paths = [prefix.get(renditions.prefix_key(kind)) for kind in joins]
    if not all(path and data_path(path).is_file() for path in paths):
        return None
    return prefix if prefix["key"] == _fingerprint(segments[: prefix["count"]]) else None


def _inputs(prefix: dict | None, segments: list[BatchSegment], kind: str) -> list[Path]:
    later = segments[prefix["count"] :] if prefix else segments
    head = [data_path(prefix[renditions.prefix_key(kind)])] if prefix else []
    return [*head, *(data_path(renditions.segment_file(s.file_path, kind)) for s in later)]


def _extend_prefix(
    prefix: dict | None, segments: list[BatchSegment], folder: Path, workdir: Path, joins: list[str]
) -> dict | None:
    """The join of every day but the latest (the one new captures change), so a refresh joins 2-3 files,
    for each rendition joined.

    The concat demuxer probes every input (~30 ms each on a busy 2-core box): without it a
    "whole project" refresh would cost more every day the project runs.
    """
    count = len(segments) - 1
    if count < 2:
        return None
    if prefix and prefix["count"] == count:
        return prefix
    key = _fingerprint(segments[:count])
    extended = {"count": count, "key": key}
    for kind in joins:
        target = folder / renditions.segment_file(f"prefix-{count}-{key[:12]}.mp4", kind)
        partial = target.with_name(f".{target.name}.part")
        try:
            ffmpeg.concat(_inputs(prefix, segments[:count], kind), partial, workdir, faststart=False)
            partial.replace(target)
        finally:
            ffmpeg.remove_quietly(partial)
        extended[renditions.prefix_key(kind)] = relative_to_data(target)
    return extended
