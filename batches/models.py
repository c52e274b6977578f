"""Timelapse batches (seed `timelapse_batches`) and the exact frames each holds (`timelapse_images`)."""

from __future__ import annotations

import zoneinfo

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class TimelapseBatch(models.Model):
    class BatchType(models.TextChoices):
        CONTINUOUS = "continuous", "Continuous"
        CHECKPOINT = "checkpoint", "Checkpoint"
        MANUAL = "manual", "Manual"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class GenerationMode(models.TextChoices):
        EVERY_CAPTURE = "every_capture", "Every capture"
        PERIODIC = "periodic", "Periodic"
        MANUAL_ONLY = "manual_only", "Manual only"

    camera = models.ForeignKey(
        "cameras.Camera", on_delete=models.DO_NOTHING, related_name="batches", db_index=False
    )
    batch_type = models.CharField(max_length=20, choices=BatchType)
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    output_filename = models.CharField(max_length=255, null=True, blank=True)
    output_path = models.TextField(null=True, blank=True)
    # bigint: a 4K month-long render passes 2 GiB (the seed had INTEGER).
    file_size_bytes = models.BigIntegerField(null=True, blank=True)
    frame_rate = models.IntegerField(default=30)
    total_frames = models.IntegerField(default=0)
    duration_seconds = models.FloatField(null=True, blank=True)
    generation_mode = models.CharField(max_length=20, choices=GenerationMode)
    day_overlay_applied = models.BooleanField(default=False)
    day_range_start = models.IntegerField(null=True, blank=True)
    day_range_end = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # --- Not in the seed: traceability and recovery ---
    # How the frames were chosen (date/day range, window, min quality, target length).
    selection = models.JSONField(default=dict, blank=True)
    # Frames left out by the integrity check: [{"image_id": 1, "reason": "missing file"}].
    dropped_frames = models.JSONField(default=list, blank=True)
    frames_done = models.IntegerField(default=0)
    attempts = models.IntegerField(default=0)
    # Bumped while rendering; a processing batch whose heartbeat stops lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # --- Not in the seed: what the public sees ---
    # status, started_at, completed_at, frames_done and error_message describe the
    # current attempt. The published_* fields describe the last video that was
    # completed, and change only in lifecycle.complete(), in the transaction that
    # renames the new file into place. Sharing reads only these, so a batch that is
    # pending, processing, failed or retried keeps playing its last video and
    # switches to the next one in one step. The facts are those of that video's own
    # frames. All nullable: "nothing published yet" (and SQLite adds nullable columns
    # without rebuilding the table, which would drop its ON DELETE triggers).
    published_path = models.TextField(null=True, blank=True)
    published_size_bytes = models.BigIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_frames = models.IntegerField(null=True, blank=True)
    published_day_overlay = models.BooleanField(null=True, blank=True)
    published_day_range_start = models.IntegerField(null=True, blank=True)
    published_day_range_end = models.IntegerField(null=True, blank=True)
    # Files this batch published before, kept for a grace period after they were
    # replaced (see lifecycle.remove_retired_outputs): [{"path": ..., "retired_at": ISO time}].
    retired_outputs = models.JSONField(null=True, blank=True)
    # The published video's other files, switched with published_path in one UPDATE:
    # {"web": {"path", "size", "width", "height"}, "av1": {...}, "poster": path, "sprite": path, "vtt": path}.
    # No "web" means the full video is the web one (it is 1080p or smaller).
    published_renditions = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "timelapse_batches"
        ordering = ["-created_at"]
        verbose_name = "timelapse batch"
        verbose_name_plural = "timelapse batches"
        indexes = [
            models.Index(fields=["camera", "-created_at"], name="idx_batches_camera_created"),
            # The render queue's question: which batches wait, oldest first.
            models.Index(
                fields=["status", "created_at"],
                name="idx_batches_pending",
                condition=models.Q(status="pending"),
            ),
            # The share page's question: a camera's newest published continuous video.
            models.Index(
                fields=["camera", "-published_at"],
                name="idx_batches_published_live",
                condition=models.Q(batch_type="continuous", published_path__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(batch_type__in=["continuous", "checkpoint", "manual"]),
                name="timelapse_batches_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "processing", "completed", "failed"]),
                name="timelapse_batches_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(generation_mode__in=["every_capture", "periodic", "manual_only"]),
                name="timelapse_batches_mode_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(frame_rate__gte=1, frame_rate__lte=240),
                name="timelapse_batches_frame_rate_range",
            ),
        ]

    def __str__(self) -> str:
        # The camera's name first: this is what the share form's batch picker lists and searches.
        return (
            f"{self.camera.name}: {self.get_batch_type_display().lower()} #{self.pk}, {self.describe_days()}"
        )

    def describe_days(self) -> str:
        """ "Day 1-14" of the published video (or of this attempt), else its dates, else its status."""
        start = self.published_day_range_start or self.day_range_start
        end = self.published_day_range_end or self.day_range_end
        if start is not None:
            return f"Day {start}" if start == end else f"Day {start}-{end}"
        # No day counter: the local dates of its first and last frame (one indexed query).
        span = self.frames.aggregate(
            first=models.Min("image__captured_at"), last=models.Max("image__captured_at")
        )
        if span["first"] is None:
            return self.get_status_display().lower()
        tz = zoneinfo.ZoneInfo(self.camera.timezone)
        first, last = (span[key].astimezone(tz).date().isoformat() for key in ("first", "last"))
        return first if first == last else f"{first} to {last}"

    @property
    def is_published(self) -> bool:
        return bool(self.published_path)

    @property
    def published_seconds(self) -> float | None:
        """How long the published video plays."""
        return self.published_frames / self.frame_rate if self.published_frames else None

    @property
    def progress_percent(self) -> int:
        if not self.total_frames:
            return 100 if self.status == self.Status.COMPLETED else 0
        return min(100, round(100 * self.frames_done / self.total_frames))


class TimelapseImage(models.Model):
    timelapse_batch = models.ForeignKey(
        TimelapseBatch, on_delete=models.DO_NOTHING, related_name="frames", db_index=False
    )
    # bigint, like images.id (the seed had INTEGER here).
    image = models.ForeignKey(
        "captures.Image", on_delete=models.DO_NOTHING, related_name="batch_frames", db_index=False
    )
    sequence_order = models.IntegerField()
    included_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "timelapse_images"
        ordering = ["timelapse_batch", "sequence_order"]
        indexes = [
            # Replaces the seed's impossible `idx_images_orphaned` (a subquery in an
            # index predicate): "is this image in any batch?" is an anti-join on this.
            models.Index(fields=["image"], name="idx_timelapse_images_image"),
        ]
        constraints = [
            # Also serve "frames of a batch in order" and "is image in batch" lookups.
            models.UniqueConstraint(
                fields=["timelapse_batch", "image"], name="timelapse_images_batch_image_unique"
            ),
            models.UniqueConstraint(
                fields=["timelapse_batch", "sequence_order"],
                name="timelapse_images_batch_order_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(sequence_order__gte=1), name="timelapse_images_order_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.timelapse_batch_id} frame {self.sequence_order}"


class DaySegment(models.Model):
    """One rendered day of a camera's continuous timelapse (not in the seed).

    The continuous video is these segments joined with a stream copy, so a new
    capture re-encodes only its own day. Cleanup reads this table too: an image of
    a continuous camera is kept until a segment covers it (its day has a segment
    whose `last_captured_at` is at or after the image's `captured_at`).
    """

    camera = models.ForeignKey(
        "cameras.Camera", on_delete=models.DO_NOTHING, related_name="day_segments", db_index=False
    )
    # The calendar day in the camera's time zone.
    local_date = models.DateField()
    day_number = models.IntegerField(null=True, blank=True)
    # Hash of everything that changes the pixels (overlay style, rotation, size,
    # encoder settings); a segment with another hash is stale and re-rendered.
    settings_hash = models.CharField(max_length=64)
    frame_count = models.IntegerField(default=0)
    last_captured_at = models.DateTimeField()
    file_path = models.TextField()
    file_size_bytes = models.BigIntegerField(default=0)
    rendered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "timelapse_day_segments"
        ordering = ["camera", "local_date"]
        constraints = [
            models.UniqueConstraint(fields=["camera", "local_date"], name="day_segments_camera_date_unique"),
        ]

    def __str__(self) -> str:
        return f"camera {self.camera_id} {self.local_date}"


class BatchSegment(models.Model):
    """One encoded local day of a segmented batch, a period video (not in the seed; batches.segmented).

    A refresh re-encodes only days with an image newer than `max_image_id` (or a
    different look), then joins the segments. The segment outlives its images:
    once encoded, the cleanup may remove them and the day stays in the video.
    """

    batch = models.ForeignKey(
        TimelapseBatch, on_delete=models.DO_NOTHING, related_name="segments", db_index=False
    )
    # The calendar day in the camera's time zone.
    local_date = models.DateField()
    settings_hash = models.CharField(max_length=64)
    frame_count = models.IntegerField()
    # The newest image (ids only grow) in the segment: a higher id on that day means it changed.
    max_image_id = models.BigIntegerField()
    first_day_number = models.IntegerField(null=True, blank=True)
    last_day_number = models.IntegerField(null=True, blank=True)
    # Segments join by stream copy only at one size; another size is never joined.
    width = models.IntegerField()
    height = models.IntegerField()
    file_path = models.TextField()
    file_size_bytes = models.BigIntegerField(default=0)
    rendered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "timelapse_batch_segments"
        ordering = ["batch", "local_date"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "local_date"], name="batch_segments_batch_date_unique"),
        ]

    def __str__(self) -> str:
        return f"batch {self.batch_id} {self.local_date}"


class RenderSettings(models.Model):
    """A camera's render defaults beyond the Day badge (not in the seed); no row means all off.

    Kept beside the batches rather than on `cameras`: only rendering reads them,
    and a new column on `cameras` would make SQLite rebuild that table and drop
    the ON DELETE triggers other apps hang on it.
    """

    class Corner(models.TextChoices):
        TOP_LEFT = "top-left", "Top left"
        TOP_RIGHT = "top-right", "Top right"
        BOTTOM_LEFT = "bottom-left", "Bottom left"
        BOTTOM_RIGHT = "bottom-right", "Bottom right"

    camera = models.OneToOneField(
        "cameras.Camera", on_delete=models.DO_NOTHING, primary_key=True, related_name="render_settings"
    )
    # Defaults; a batch may override deflicker and stabilize (`manage.py render --deflicker`).
    deflicker = models.BooleanField(
        default=False, help_text="Even out brightness changes from frame to frame (auto exposure, clouds)."
    )
    stabilize = models.BooleanField(
        default=False, help_text="Two-pass stabilization for a camera on a shaky mount; renders take longer."
    )
    timestamp_caption = models.BooleanField(
        default=False,
        help_text="Draw each frame's date and time (camera time zone) beside the Day badge.",
    )
    # A PNG under DATA_DIR/branding, written by the upload (batches/watermark.py), never typed.
    watermark_path = models.TextField(null=True, blank=True, editable=False)
    watermark_position = models.CharField(max_length=20, choices=Corner, default=Corner.TOP_RIGHT)
    watermark_width_percent = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Logo width as a percentage of the video's width.",
    )
    watermark_opacity = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="0 (invisible) to 1 (opaque).",
    )

    class Meta:
        db_table = "camera_render_settings"
        verbose_name = "render settings"
        verbose_name_plural = "render settings"

    def __str__(self) -> str:
        return f"render settings of camera {self.camera_id}"

    @classmethod
    def for_camera(cls, camera) -> RenderSettings:
        """The camera's row, or an unsaved one with every option off."""
        return cls.objects.filter(camera=camera).first() or cls(camera=camera)
