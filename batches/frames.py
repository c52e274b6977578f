"""A batch's frames and files: integrity checks, video settings, day runs, where outputs go.

Every stored path is read through common.paths, which confines it to the media folders.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image as PILImage

from batches import ffmpeg, watermark
from batches.effects import Watermark
from batches.ffmpeg import RenderError, VideoSettings
from batches.lifecycle import Heartbeat
from batches.models import RenderSettings, TimelapseBatch, TimelapseImage
from cameras.models import Camera
from common import mediastore
from common.paths import UnsafePath, media_key, media_path

log = logging.getLogger(__name__)


@dataclass
class Frame:
    image_id: int
    sequence_order: int
    path: Path
    day_number: int | None
    captured_at: datetime


def data_path(relative: str) -> Path:
    """A stored path made absolute; a RenderError when it leaves the media folders."""
    try:
        return media_path(relative)
    except UnsafePath as exc:
        raise RenderError(f"Path outside the data directory: {relative}") from exc


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(file_path: str, fetch_to: Path) -> tuple[Path | None, str | None]:
    """Media in a bucket: download the frame into the render's work folder (ffmpeg reads files)."""
    try:
        key = media_key(file_path)
    except UnsafePath:
        return None, f"Path outside the data directory: {file_path}"
    target = fetch_to / key.replace("/", "__")
    try:
        mediastore.download(key, target)
    except mediastore.MediaStoreError as exc:
        if "404" in str(exc) or "NoSuchKey" in str(exc):
            return None, "missing file"
        raise RenderError(str(exc)) from None
    return target, None


def check_frame(
    file_path: str, size: int, file_hash: str | None, fetch_to: Path | None = None
) -> tuple[Path | None, str | None]:
    """(path, None) when the file is there and intact, else (None, why not).

    With `fetch_to` and media in a bucket, the frame is downloaded there first and
    the local copy is checked (so a corrupt object is dropped like a corrupt file).
    """
    if fetch_to is not None and mediastore.remote():
        path, reason = _fetch(file_path, fetch_to)
        if reason:
            return None, reason
    else:
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


def verify_frames(
    batch: TimelapseBatch, rows=None, heartbeat: Heartbeat | None = None, fetch_to: Path | None = None
) -> list[Frame]:
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
        path, reason = check_frame(file_path, size, file_hash, fetch_to)
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


def video_settings(
    camera: Camera, first_frame: Path | tuple[int, int], fps: int, selection: dict | None = None
) -> VideoSettings:
    """What a render of this camera's frames looks like; a batch's selection may override finishing."""
    if isinstance(first_frame, Path):
        with PILImage.open(first_frame) as image:
            size = image.size
    else:
        size = first_frame
    width, height = ffmpeg.output_size(*size, camera.rotation, camera.render_max_width)
    style = ffmpeg.clean_style(camera.day_overlay_style)
    finishing = RenderSettings.for_camera(camera)
    selection = selection or {}

    def chosen(option: str) -> bool:
        # None (or absent, in batches made before the option existed) means the camera's default.
        value = selection.get(option)
        return bool(getattr(finishing, option) if value is None else value)

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
        deflicker=chosen("deflicker"),
        stabilize=chosen("stabilize"),
        timestamp=finishing.timestamp_caption,
        watermark=watermark_of(finishing, selection.get("watermark")),
    )


def watermark_of(finishing: RenderSettings, override: dict | None = None) -> Watermark | None:
    """The logo a render draws: the batch's own (a share's, put in its selection) or else the camera's.

    Checked like every stored path; a missing file is a RenderError, not a bare video.
    """
    if override:
        stored, corner = override["path"], override["corner"]
        width, opacity, whose = override["width_percent"], override["opacity"], "share's"
    elif finishing.watermark_path:
        stored, corner = finishing.watermark_path, finishing.watermark_position
        width, opacity, whose = finishing.watermark_width_percent, finishing.watermark_opacity, "camera's"
    else:
        return None
    data_path(stored)  # a RenderError when the stored path leaves the media folders
    try:
        path = watermark.local_file(stored)
    except mediastore.MediaStoreError as exc:
        raise RenderError(f"The {whose} watermark logo could not be read: {exc}") from None
    if path is None:
        raise RenderError(f"The {whose} watermark logo is missing; upload it again or remove it.")
    return Watermark(
        path=str(path), sha256=sha256_file(path), corner=corner, width_percent=width, opacity=opacity
    )


def captions(frames: list[Frame], camera: Camera) -> list[str]:
    """Each frame's capture time as the timestamp caption shows it, in the camera's time zone."""
    tz = zoneinfo.ZoneInfo(camera.timezone)
    return [f.captured_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") for f in frames]


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
    """A new name for every render, never the name of a published file.

    The published file is never overwritten in place: a share streaming it keeps
    reading it, and the switch to the new file is the row update in
    lifecycle.complete(). The old one is retired, then removed after a grace period.
    """
    slug = slugify(batch.camera.name) or "camera"
    return f"{slug}-{batch.batch_type}-{batch.pk}-{timezone.now():%Y%m%d-%H%M%S-%f}.mp4"


# output_name's tail, which the renditions, poster, sprite and partials named from it keep.
_OUTPUT_TAIL = re.compile(
    rf"-(?:{'|'.join(map(re.escape, TimelapseBatch.BatchType.values))})-(\d+)-\d{{8}}-\d{{6}}-\d{{6}}\."
)


def output_batch_id(name: str) -> int | None:
    """The id of the batch a file in videos/<camera>/ was rendered for (output_name); None if not ours."""
    match = _OUTPUT_TAIL.search(name)
    return int(match.group(1)) if match else None


def local_day_bounds(day: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """A local day in the camera's time zone as [its midnight, the next one): 23 or 25 hours on a DST day."""
    return datetime.combine(day, time.min, tz), datetime.combine(day + timedelta(days=1), time.min, tz)


def day_range(day_numbers) -> tuple[int | None, int | None]:
    numbers = [n for n in day_numbers if n is not None]
    return (min(numbers), max(numbers)) if numbers else (None, None)
