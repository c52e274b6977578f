"""Choosing a batch's frames: a selection of a camera's images becomes `timelapse_images` rows."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Min

from batches import bestframe, renditions
from batches.models import TimelapseBatch, TimelapseImage
from cameras.models import Camera
from captures.models import Image

# Kept in the batch's selection: which frame won each day and why the others lost.
BEST_FRAMES = "best_frames"
DEFAULT_AROUND = time(12, 0)


class SelectionError(ValueError):
    """The selection cannot make a batch (bad range, no matching images); says why."""


@dataclass
class Selection:
    """How frames are chosen. Dates and the time window are in the camera's time zone."""

    date_from: date | None = None
    date_to: date | None = None
    day_from: int | None = None
    day_to: int | None = None
    # Time-of-day window; from > to wraps midnight (e.g. 22:00-04:00).
    time_from: time | None = None
    time_to: time | None = None
    min_quality: int | None = None
    fps: int = 30
    # "Make it 60 s long": fps * target_seconds frames, sampled evenly per day.
    target_seconds: float | None = None
    # "Keep N frames a day": sampled evenly within each day (the new-timelapse flow).
    frames_per_day: int | None = None
    # Finishing for this batch; None takes the camera's render settings.
    deflicker: bool | None = None
    stabilize: bool | None = None
    # Best frame of the day (batches/bestframe.py): N frames a day from around this time.
    best_per_day: int | None = None
    around: time | None = None
    window_hours: float = 2.0
    # "web,full,av1" (batches/renditions.py); None takes TIMELAPSER_RENDITIONS when it renders.
    renditions: str | None = None

    def validate(self) -> None:
        if self.renditions is not None:
            try:
                renditions.parse(self.renditions)
            except renditions.RenditionError as exc:
                raise SelectionError(str(exc)) from exc
        if not 1 <= self.fps <= 240:
            raise SelectionError(f"Frame rate must be between 1 and 240, not {self.fps}.")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise SelectionError(f"Start date {self.date_from} is after end date {self.date_to}.")
        if self.day_from and self.day_to and self.day_from > self.day_to:
            raise SelectionError(f"Start day {self.day_from} is after end day {self.day_to}.")
        if (self.time_from is None) != (self.time_to is None):
            raise SelectionError("A time-of-day window needs both a start and an end time.")
        if self.min_quality is not None and not 0 <= self.min_quality <= 100:
            raise SelectionError(f"Minimum quality must be 0..100, not {self.min_quality}.")
        if self.target_seconds is not None and self.target_seconds <= 0:
            raise SelectionError("Target length must be positive.")
        if self.frames_per_day is not None and not 1 <= self.frames_per_day <= 10_000:
            raise SelectionError(f"Frames per day must be between 1 and 10000, not {self.frames_per_day}.")
        if self.best_per_day is not None:
            self._validate_best_per_day()
        elif self.around is not None:
            raise SelectionError("A time of day (--around) is for best frame of the day (--best-per-day N).")

    def _validate_best_per_day(self) -> None:
        if not 1 <= self.best_per_day <= 24:
            raise SelectionError(f"Best frames per day must be between 1 and 24, not {self.best_per_day}.")
        if not 0 < self.window_hours <= 12:
            raise SelectionError(
                f"The window around the time of day must be 0-12 hours, not {self.window_hours}."
            )
        if self.time_from is not None or self.target_seconds is not None:
            raise SelectionError(
                "Best frame of the day chooses by its own window (--around): "
                "leave out the time-of-day window and the target length."
            )

    def as_json(self) -> dict[str, Any]:
        return {
            key: (value.isoformat() if hasattr(value, "isoformat") else value)
            for key, value in asdict(self).items()
        }


def candidate_images(camera: Camera, selection: Selection) -> list[tuple[int, datetime]]:
    """(id, captured_at) of the camera's images matching the selection, oldest first."""
    selection.validate()
    tz = zoneinfo.ZoneInfo(camera.timezone)
    images = Image.objects.filter(camera=camera)
    if selection.date_from:
        images = images.filter(captured_at__gte=datetime.combine(selection.date_from, time.min, tz))
    if selection.date_to:
        end = datetime.combine(selection.date_to + timedelta(days=1), time.min, tz)
        images = images.filter(captured_at__lt=end)
    if selection.day_from:
        images = images.filter(day_number__gte=selection.day_from)
    if selection.day_to:
        images = images.filter(day_number__lte=selection.day_to)
    if selection.min_quality is not None:
        # Unknown quality is not "at least Q": an operator asking for Q wants proof.
        images = images.filter(quality_score__gte=selection.min_quality)
    rows = images.order_by("captured_at", "id").values_list("id", "captured_at")
    if selection.time_from is None:
        return list(rows)
    start, end = selection.time_from, selection.time_to

    def in_window(at: datetime) -> bool:
        local = at.astimezone(tz).time()
        return start <= local < end if start <= end else (local >= start or local < end)

    return [(pk, at) for pk, at in rows.iterator(chunk_size=5000) if in_window(at)]


def sample_evenly(rows: list[tuple[int, datetime]], frames: int, tz_name: str) -> list[tuple[int, datetime]]:
    """Keep `frames` of `rows`, the same share from every local day, evenly spaced within it.

    A day with fewer images than its share gives the rest to the other days, so
    the target length is met whenever there are enough images overall.
    """
    if frames >= len(rows):
        return rows
    tz = zoneinfo.ZoneInfo(tz_name)
    days: dict[date, list[tuple[int, datetime]]] = defaultdict(list)
    for row in rows:
        days[row[1].astimezone(tz).date()].append(row)
    quota = dict.fromkeys(days, 0)
    remaining = frames
    open_days = sorted(days)
    while remaining and open_days:
        share, extra = divmod(remaining, len(open_days))
        for i, day in enumerate(open_days):
            quota[day] += min(share + (1 if i < extra else 0), len(days[day]) - quota[day])
        remaining = frames - sum(quota.values())
        open_days = [day for day in open_days if quota[day] < len(days[day])]
    picked: list[tuple[int, datetime]] = []
    for day in sorted(days):
        items, k = days[day], quota[day]
        picked.extend(items[int((i + 0.5) * len(items) / k)] for i in range(k))
    return picked


def create_batch(
    camera: Camera,
    selection: Selection,
    batch_type: str = TimelapseBatch.BatchType.MANUAL,
    generation_mode: str = TimelapseBatch.GenerationMode.MANUAL_ONLY,
) -> TimelapseBatch:
    """A pending batch holding the selected images in captured_at order (one transaction)."""
    rows, report = choose_frames(camera, selection)
    if not rows:
        raise SelectionError(f"No images of camera {camera.name!r} match this selection.")
    return _create(camera, [pk for pk, _ in rows], selection, batch_type, generation_mode, report=report)


def choose_frames(camera: Camera, selection: Selection) -> tuple[list[tuple[int, datetime]], dict | None]:
    """The (id, captured_at) frames a batch of this selection would hold, and the best-frame report.

    Writes nothing: the new-timelapse flow previews with it before create_batch makes the rows.
    """
    rows = candidate_images(camera, selection)
    report = None
    if selection.frames_per_day and rows:
        tz = zoneinfo.ZoneInfo(camera.timezone)
        days = len({at.astimezone(tz).date() for _, at in rows})
        rows = sample_evenly(rows, days * selection.frames_per_day, camera.timezone)
    if selection.target_seconds:
        rows = sample_evenly(rows, max(1, round(selection.target_seconds * selection.fps)), camera.timezone)
    if selection.best_per_day and rows:
        if selection.around is None:
            selection.around = DEFAULT_AROUND
        rows, report = bestframe.pick(
            rows, camera.timezone, selection.best_per_day, selection.around, selection.window_hours
        )
        if not rows:
            raise SelectionError(
                f"No usable frame of camera {camera.name!r} within {selection.window_hours:g} h of "
                f"{selection.around:%H:%M} on any day: every candidate was dark, blank, frozen, blurred "
                "or low in contrast."
            )
    return rows, report


def create_batch_from_images(
    images, fps: int = 30, batch_type: str = TimelapseBatch.BatchType.MANUAL
) -> TimelapseBatch:
    """A pending manual batch of exactly these images (e.g. the image admin's bulk action).

    All images must belong to one camera; they are ordered by captured_at.
    """
    rows = list(
        Image.objects.filter(pk__in=[getattr(i, "pk", i) for i in images])
        .order_by("captured_at", "id")
        .values_list("id", "camera_id")
    )
    if not rows:
        raise SelectionError("No images were chosen.")
    cameras = {camera_id for _, camera_id in rows}
    if len(cameras) > 1:
        raise SelectionError("A batch holds images of one camera; the chosen images come from several.")
    selection = Selection(fps=fps)
    return _create(
        Camera.objects.get(pk=cameras.pop()),
        [pk for pk, _ in rows],
        selection,
        batch_type,
        TimelapseBatch.GenerationMode.MANUAL_ONLY,
        by_hand=True,
    )


def _create(
    camera: Camera,
    image_ids: list[int],
    selection: Selection,
    batch_type: str,
    generation_mode: str,
    by_hand: bool = False,
    report: dict | None = None,
) -> TimelapseBatch:
    selection_json = selection.as_json()
    if by_hand:
        selection_json["image_ids"] = len(image_ids)
    if report is not None:
        selection_json[BEST_FRAMES] = report
    with transaction.atomic():
        batch = TimelapseBatch.objects.create(
            camera=camera,
            batch_type=batch_type,
            generation_mode=generation_mode,
            frame_rate=selection.fps,
            total_frames=len(image_ids),
            selection=selection_json,
        )
        TimelapseImage.objects.bulk_create(
            (
                TimelapseImage(timelapse_batch=batch, image_id=pk, sequence_order=i)
                for i, pk in enumerate(image_ids, start=1)
            ),
            batch_size=2000,
        )
        days = Image.objects.filter(batch_frames__timelapse_batch=batch).aggregate(
            first=Min("day_number"), last=Max("day_number")
        )
        batch.day_range_start, batch.day_range_end = days["first"], days["last"]
        batch.save(update_fields=["day_range_start", "day_range_end"])
    return batch
