"""The continuous timelapse: one rolling video per camera, rebuilt incrementally from day segments.

Each local day is encoded once into a segment (DaySegment) and the video is the
segments joined with a stream copy. A new capture re-encodes only its own day;
a change of overlay style, rotation or size changes the settings hash and so
re-encodes every day. Cleanup relies on DaySegment: an image of a continuous
camera may go only once its day's segment has last_captured_at >= its capture
time, so a segment row is written only after its file is in place.
"""

from __future__ import annotations

import logging
import shutil
import zoneinfo
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image as PILImage

from batches import ffmpeg, lifecycle, renditions, scrubsprite, segmentstore
from batches.ffmpeg import RenderError
from batches.frames import (
    captions,
    check_frame,
    day_range,
    day_runs,
    local_day_bounds,
    output_name,
    verify_frames,
    video_settings,
    videos_dir,
)
from batches.models import DaySegment, TimelapseBatch, TimelapseImage
from batches.partials import partial_files
from cameras.models import Camera
from captures.models import Image
from common.paths import relative_to_data

log = logging.getLogger(__name__)
Status = TimelapseBatch.Status
# Kept in the batch's selection: the newest capture the published video holds,
# and the frame size every segment is scaled to (so segments join by stream copy).
WATERMARK = "rendered_through"
FRAME_SIZE = "frame_size"
# The joined days before the latest one, cached: the concat demuxer opens and
# probes every input (~30 ms each on a busy 2-core box), so joining 100 day files
# per update would make an update's cost grow with the camera's age. With the
# prefix an update joins 2-3 files whatever the history.
PREFIX = "prefix"


def current_batch(camera: Camera) -> TimelapseBatch | None:
    return (
        TimelapseBatch.objects.filter(camera=camera, batch_type=TimelapseBatch.BatchType.CONTINUOUS)
        .order_by("-created_at", "-pk")
        .first()
    )


def request_update(camera: Camera, countdown: float | None = None, queue: bool = True) -> TimelapseBatch:
    """Ask for the camera's continuous video to catch up; a burst of requests makes one render.

    Only the request that moves the batch to pending queues a task. While it is
    pending, more requests change nothing (the queued render will see their
    images); while it is processing, the render itself looks for newer images
    when it finishes (follow_up) and queues one more round.
    """
    mode = (
        TimelapseBatch.GenerationMode.EVERY_CAPTURE
        if camera.continuous_mode == Camera.ContinuousMode.EVERY_CAPTURE
        else TimelapseBatch.GenerationMode.PERIODIC
    )
    with transaction.atomic():
        # The camera row lock serialises "create the first continuous batch".
        Camera.objects.select_for_update().filter(pk=camera.pk).exists()
        batch = current_batch(camera)
        if batch is None:
            batch = TimelapseBatch.objects.create(
                camera=camera,
                batch_type=TimelapseBatch.BatchType.CONTINUOUS,
                generation_mode=mode,
                frame_rate=settings.TIMELAPSER_CONTINUOUS_FPS,
                selection={"continuous": True},
            )
            if queue:
                lifecycle.enqueue(batch.pk, countdown)
            return batch
        moved = TimelapseBatch.objects.filter(
            pk=batch.pk, status__in=[Status.COMPLETED, Status.FAILED]
        ).update(status=Status.PENDING, attempts=0)
        if moved and queue:
            lifecycle.enqueue(batch.pk, countdown)
    return batch


def follow_up(batch: TimelapseBatch) -> None:
    """After an update: captures that arrived while it ran get another (coalesced) round."""
    newer = Image.objects.filter(camera_id=batch.camera_id)
    watermark = batch.selection.get(WATERMARK)
    if watermark:
        newer = newer.filter(captured_at__gt=datetime.fromisoformat(watermark))
    if batch.camera.continuous_mode != Camera.ContinuousMode.OFF and newer.exists():
        request_update(batch.camera, countdown=settings.TIMELAPSER_CONTINUOUS_COALESCE_SECONDS)


def _append_new_images(batch: TimelapseBatch) -> int:
    """Add the camera's images newer than the batch's last frame, continuing sequence_order."""
    last = (
        TimelapseImage.objects.filter(timelapse_batch=batch)
        .order_by("-sequence_order")
        .values_list("sequence_order", "image__captured_at")
        .first()
    )
    order, since = last if last else (0, None)
    if since is None and last is not None:
        # The last frame's image was cleaned up; the watermark still says how far we got.
        since = datetime.fromisoformat(batch.selection[WATERMARK])
    images = Image.objects.filter(camera_id=batch.camera_id)
    if since is not None:
        images = images.filter(captured_at__gt=since)
    ids = list(images.order_by("captured_at", "id").values_list("id", flat=True))
    TimelapseImage.objects.bulk_create(
        (
            TimelapseImage(timelapse_batch=batch, image_id=pk, sequence_order=i)
            for i, pk in enumerate(ids, start=order + 1)
        ),
        batch_size=2000,
    )
    return len(ids)


def _dirty_days(batch: TimelapseBatch, digest: str, tz: zoneinfo.ZoneInfo, web: bool) -> set[date]:
    """Days to (re-)encode: those with frames after the watermark, those rendered with other
    settings, and (when the video is taller than the web limit) those without a web segment."""
    frames = TimelapseImage.objects.filter(timelapse_batch=batch)
    watermark = batch.selection.get(WATERMARK)
    if watermark:
        frames = frames.filter(image__captured_at__gt=datetime.fromisoformat(watermark))
    days = {at.astimezone(tz).date() for at in frames.values_list("image__captured_at", flat=True)}
    for segment in DaySegment.objects.filter(camera_id=batch.camera_id):
        paths = [segment.file_path, *([renditions.web_segment(segment.file_path)] if web else [])]
        if segment.settings_hash != digest or not all(segmentstore.present(path) for path in paths):
            days.add(segment.local_date)
    return days


def update(batch: TimelapseBatch, workdir: Path) -> None:
    """Bring the continuous video up to date: new frames, dirty days re-encoded, segments joined."""
    camera = batch.camera
    tz = zoneinfo.ZoneInfo(camera.timezone)
    _append_new_images(batch)
    heartbeat = lifecycle.Heartbeat(batch)
    first = TimelapseImage.objects.filter(timelapse_batch=batch).order_by("sequence_order").first()
    if FRAME_SIZE not in batch.selection:
        if first is None:
            raise RenderError("No images to render yet for this camera.")
        # With media in a bucket the frames are downloaded into the work folder (removed with it).
        path, reason = check_frame(
            first.image.file_path, first.image.file_size_bytes, first.image.file_hash, fetch_to=workdir
        )
        if path is None:
            raise RenderError(f"Cannot size the video: first frame (image {first.image_id}) {reason}.")
        with PILImage.open(path) as image:
            batch.selection[FRAME_SIZE] = list(image.size)
    video = video_settings(camera, tuple(batch.selection[FRAME_SIZE]), batch.frame_rate)
    digest = video.digest()
    try:
        kinds = renditions.parse(batch.selection.get("renditions"))
    except renditions.RenditionError as exc:
        raise RenderError(str(exc)) from exc
    # Taller than the web limit: every day also gets a web segment, from the same decode.
    web = renditions.needs_web(kinds, video.width, video.height)
    watermark_at = TimelapseImage.objects.filter(timelapse_batch=batch).aggregate(
        at=Max("image__captured_at")
    )["at"]
    days = sorted(_dirty_days(batch, digest, tz, web))
    if not days and segmentstore.published(batch.published_path):
        # Nothing new since the published video (a periodic run with no captures).
        now = timezone.now()
        lifecycle.still_ours(batch).update(status=Status.COMPLETED, completed_at=now, heartbeat_at=now,
                                   frames_done=batch.total_frames, error_message=None)  # fmt: skip
        return
    segments_dir = Path(settings.DATA_DIR) / "segments" / str(camera.pk)
    segments_dir.mkdir(parents=True, exist_ok=True)
    # Only this batch renders this camera's segments (the claim guarantees one at a
    # time), so any partial file here is a killed attempt's leftover.
    for old in partial_files(batch):
        ffmpeg.remove_quietly(old)
    for day in days:
        start, end = local_day_bounds(day, tz)
        rows = TimelapseImage.objects.filter(
            timelapse_batch=batch, image__captured_at__gte=start, image__captured_at__lt=end
        ).order_by("sequence_order")
        # One day's downloaded frames at a time: a re-encode of every day must not fill the disk.
        fetched = _fresh(workdir, f"frames-{day.isoformat()}")
        frames = verify_frames(batch, rows, heartbeat, fetch_to=fetched)
        if not frames:
            # Nothing left of that day to encode (all dropped or cleaned up): drop its segment.
            for segment in DaySegment.objects.filter(camera=camera, local_date=day):
                segmentstore.remove(segment.file_path)
                segmentstore.remove(renditions.web_segment(segment.file_path))
                segment.delete()
            continue
        runs = day_runs(frames)
        target = segments_dir / f"{day.isoformat()}.mp4"
        web_target = target.with_name(renditions.web_segment(target.name))
        attempt = f"{batch.pk}-{batch.attempts}"
        plan = renditions.segment_plan(
            target.with_name(f".{target.name}.{attempt}.part"),
            web_target.with_name(f".{web_target.name}.{attempt}.part") if web else None,
            video.width,
            video.height,
        )
        try:
            ffmpeg.encode(
                [f.path for f in frames],
                target,
                video,
                runs,
                _fresh(workdir, day),
                on_progress=heartbeat,
                captions=captions(frames, camera) if video.timestamp else None,
                plan=plan,
            )
            if "web" in plan.outputs:
                plan.outputs["web"].replace(web_target)
                segmentstore.store(web_target)
            else:
                # A web segment left from settings that needed one would be joined by no one.
                segmentstore.remove(relative_to_data(web_target))
            plan.outputs["full"].replace(target)
            segmentstore.store(target)
        finally:
            for path in plan.outputs.values():
                ffmpeg.remove_quietly(path)
            shutil.rmtree(fetched, ignore_errors=True)
        DaySegment.objects.update_or_create(
            camera=camera,
            local_date=day,
            defaults={
                "day_number": frames[0].day_number,
                "settings_hash": digest,
                "frame_count": len(frames),
                "last_captured_at": max(f.captured_at for f in frames),
                "file_path": relative_to_data(target),
                "file_size_bytes": target.stat().st_size,
                "rendered_at": timezone.now(),
            },
        )
        heartbeat.base += len(frames)
        heartbeat(0, force=True)
    segments = list(DaySegment.objects.filter(camera=camera).order_by("local_date"))
    if not segments:
        raise RenderError("No frames left to render for the continuous video.")
    # Every segment now carries the current settings, so the overlay is in all or none.
    overlay_applied = video.overlay and any(s.day_number is not None for s in segments)
    name = output_name(batch)
    final = videos_dir(camera) / name
    partial = final.with_name(f".{name}.part")
    # The web rendition and the poster are published beside the video, in the same step.
    files = {
        "poster": (
            final.with_name(f".{final.stem}.poster.jpg.part"),
            renditions.published_still(final, "poster"),
        )
    }
    if web:
        files["web"] = renditions.joined_web_file(final)
    # The scrub sprite and its cues, published as a batch render's are (batches.scrubsprite).
    files.update(scrubsprite.files(final))
    kinds = ["full", *(["web"] if web else [])]
    selection = {**batch.selection}
    try:
        prefix = _valid_prefix(batch, digest, days, kinds)
        for kind in kinds:
            target = partial if kind == "full" else files["web"][0]
            ffmpeg.concat(_inputs(prefix, segments, kind), target, workdir)
        ffmpeg.first_frame(partial, files["poster"][0], workdir)
        total = sum(s.frame_count for s in segments)
        # From the web join when there is one: the thumbnails are small, its key frames decode faster.
        scrubsprite.write(files, files["web"][0] if web else partial, total, video.fps, workdir)
        selection[PREFIX] = _refresh_prefix(prefix, segments, digest, segments_dir, workdir, kinds)
        if watermark_at:
            selection[WATERMARK] = watermark_at.isoformat()
        first_day, last_day = day_range(s.day_number for s in segments)
        # The superseded video is retired by complete() and removed after a grace period.
        published = lifecycle.complete(
            batch,
            partial,
            final,
            total,
            overlay_applied,
            (first_day, last_day),
            files=files,
            selection=selection,
            day_range_start=first_day,
            day_range_end=last_day,
        )
    finally:
        for path in [partial, *(written for written, _ in files.values())]:
            ffmpeg.remove_quietly(path)
    old_prefix, new_prefix = batch.selection.get(PREFIX) or {}, selection.get(PREFIX) or {}
    if published:
        # Only the renderer reads a prefix, and the next one starts after this commit.
        for key in ("path", "web_path"):
            if old_prefix.get(key) and old_prefix[key] != new_prefix.get(key):
                segmentstore.remove(old_prefix[key])
        if new_prefix:
            through = date.fromisoformat(new_prefix["through"])
            segmentstore.drop_local_copies(
                renditions.segment_file(s.file_path, kind)
                for s in segments
                if s.local_date <= through
                for kind in kinds
            )


def _valid_prefix(batch: TimelapseBatch, digest: str, dirty: list[date], kinds: list[str]) -> dict | None:
    """The cached join of earlier days, if no day it holds changed and it has today's settings
    (and a join of every rendition this video needs)."""
    prefix = batch.selection.get(PREFIX)
    if not prefix or prefix["hash"] != digest:
        return None
    if dirty and min(dirty) <= date.fromisoformat(prefix["through"]):
        return None
    paths = [prefix.get(renditions.prefix_key(kind)) for kind in kinds]
    return prefix if all(path and segmentstore.present(path) for path in paths) else None


def _inputs(prefix: dict | None, segments: list[DaySegment], kind: str = "full") -> list[Path]:
    """The local files to join for one rendition (downloaded first when media is in a bucket)."""
    if prefix is None:
        return [segmentstore.local(renditions.segment_file(s.file_path, kind)) for s in segments]
    through = date.fromisoformat(prefix["through"])
    later = [
        segmentstore.local(renditions.segment_file(s.file_path, kind))
        for s in segments
        if s.local_date > through
    ]
    return [segmentstore.local(prefix[renditions.prefix_key(kind)]), *later]


def _refresh_prefix(
    prefix: dict | None,
    segments: list[DaySegment],
    digest: str,
    folder: Path,
    workdir: Path,
    kinds: list[str] = ("full",),
) -> dict | None:
    """Extend the prefix to every day but the latest (the one new captures will change)."""
    if len(segments) < 2:
        return prefix
    through = segments[-2].local_date
    if prefix and date.fromisoformat(prefix["through"]) >= through:
        return prefix
    refreshed = {"through": through.isoformat(), "hash": digest}
    for kind in kinds:
        target = folder / renditions.segment_file(f"prefix-{through.isoformat()}-{digest[:12]}.mp4", kind)
        partial = target.with_name(f".{target.name}.part")
        try:
            ffmpeg.concat(_inputs(prefix, segments[:-1], kind), partial, workdir, faststart=False)
            partial.replace(target)
        finally:
            ffmpeg.remove_quietly(partial)
        refreshed[renditions.prefix_key(kind)] = segmentstore.store(target)
    return refreshed


def _fresh(workdir: Path, day: date | str) -> Path:
    path = workdir / (day.isoformat() if isinstance(day, date) else day)
    path.mkdir()
    return path
