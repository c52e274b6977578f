"""Captured images (seed `images`) and every attempt to take one (`capture_attempts`)."""

from __future__ import annotations

from django.conf import settings
from django.db import connections, models
from django.utils import timezone


class ImageQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        fill_day_numbers(objs, using=self.db)
        return super().bulk_create(objs, *args, **kwargs)

    def not_in_any_batch(self) -> ImageQuerySet:
        """Images no batch refers to: the seed's `idx_images_orphaned`, as an anti-join.

        The seed indexed `WHERE id NOT IN (SELECT image_id FROM timelapse_images)`,
        which no database accepts (index predicates cannot hold subqueries). The
        same question is answered by NOT EXISTS over the index on
        timelapse_images(image_id) (`idx_timelapse_images_image`).
        """
        # Through the reverse relation, not an import: batches sits above captures.
        frames = self.model._meta.get_field("batch_frames").related_model
        return self.filter(~models.Exists(frames.objects.filter(image_id=models.OuterRef("pk"))))


def fill_day_numbers(images, using: str = "default") -> None:
    """Set day_number in Python where the database cannot do it in local time.

    PostgreSQL's BEFORE trigger computes it with AT TIME ZONE, so there we leave
    it NULL and let the trigger work. SQLite has no time zone database; its
    trigger (the fallback for raw inserts) counts UTC days, so the application
    sets the local-time answer before the insert.
    """
    if connections[using].vendor == "postgresql":
        return
    cameras = {}
    for image in images:
        if image.day_number is not None or image.captured_at is None:
            continue
        camera = cameras.get(image.camera_id)
        if camera is None:
            camera = cameras[image.camera_id] = image.camera
        image.day_number = camera.day_number(image.captured_at)


class Image(models.Model):
    id = models.BigAutoField(primary_key=True)
    # ON DELETE rules are enforced by the database (captures/migrations/0002);
    # DO_NOTHING keeps Django from loading millions of rows to emulate them.
    camera = models.ForeignKey(
        "cameras.Camera", on_delete=models.DO_NOTHING, related_name="images", db_index=False
    )
    filename = models.CharField(max_length=255)
    file_path = models.TextField()
    file_size_bytes = models.BigIntegerField()
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    format = models.CharField(max_length=10)
    quality_score = models.IntegerField(null=True, blank=True)
    file_hash = models.CharField(max_length=64, null=True, blank=True)
    captured_at = models.DateTimeField()
    day_number = models.IntegerField(null=True, blank=True)
    processing_metadata = models.JSONField(default=dict, blank=True)
    # Not in the seed: the scheduled slot a capture task was for, so a retried
    # task finds the image it already made instead of making a second one.
    capture_slot = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ImageQuerySet.as_manager()

    class Meta:
        db_table = "images"
        ordering = ["-captured_at"]
        indexes = [
            # Latest images of a camera, day pages, batch selection by range.
            # The seed calls it idx_images_camera_captured_desc; Django caps names at 30.
            models.Index(fields=["camera", "-captured_at"], name="idx_images_camera_captured"),
            # Per-day counts and day-range batch selection.
            models.Index(fields=["camera", "day_number"], name="idx_images_camera_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quality_score__isnull=True)
                | models.Q(quality_score__gte=0, quality_score__lte=100),
                name="images_quality_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(file_size_bytes__gte=0), name="images_file_size_nonnegative"
            ),
            # NULLs are distinct on both databases, so imports (no slot) are unaffected.
            models.UniqueConstraint(fields=["camera", "capture_slot"], name="images_one_per_slot"),
        ]

    def __str__(self) -> str:
        return self.filename

    def save(self, *args, **kwargs):
        if self._state.adding:
            fill_day_numbers([self], using=kwargs.get("using") or "default")
        super().save(*args, **kwargs)


class CaptureAttempt(models.Model):
    class Status(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        TIMEOUT = "timeout", "Timed out"
        ERROR = "error", "Error"

    camera = models.ForeignKey(
        "cameras.Camera", on_delete=models.DO_NOTHING, related_name="capture_attempts", db_index=False
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=Status)
    # bigint, like images.id; SET NULL when the image is cleaned up (database rule).
    image = models.ForeignKey(
        "captures.Image",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="capture_attempts",
    )
    error_message = models.TextField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    retry_count = models.IntegerField(default=0)

    class Meta:
        db_table = "capture_attempts"
        ordering = ["-attempted_at"]
        indexes = [
            # Health plot and "last attempts" per camera; pruning by age.
            models.Index(fields=["camera", "-attempted_at"], name="idx_attempts_camera_time"),
            models.Index(fields=["attempted_at"], name="idx_attempts_attempted_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["success", "failed", "timeout", "error"]),
                name="capture_attempts_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.status} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"


class BackfillRun(models.Model):
    """One "fill gaps from recordings" run of a camera over a time range, and how far it got.

    Not in the seed. The worker updates the counters as it goes (captures/backfill_runs.py), so the
    admin's progress page reads this row and nothing else.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    camera = models.ForeignKey("cameras.Camera", on_delete=models.CASCADE, related_name="backfill_runs")
    range_start = models.DateTimeField()
    range_end = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State, default=State.QUEUED)
    slots_total = models.IntegerField(default=0)
    slots_filled = models.IntegerField(default=0)
    slots_skipped = models.IntegerField(default=0, help_text="Slots that already had an image.")
    slots_failed = models.IntegerField(default=0, help_text="Slots the console had no recording for.")
    # What the operator reads when the console refused: never a secret (see captures/backfill.py).
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Touched on every progress write: a run "running" with an old heartbeat lost its worker.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "protect_backfill_runs"
        ordering = ["-created_at"]
        indexes = [
            # The camera's runs, newest first (its page, and the one-run-at-a-time check).
            models.Index(fields=["camera", "-created_at"], name="idx_backfill_camera_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "running", "done", "failed"]),
                name="protect_backfill_runs_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(range_end__gt=models.F("range_start")), name="protect_backfill_runs_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.range_start:%Y-%m-%d %H:%M}..{self.range_end:%Y-%m-%d %H:%M} {self.state}"

    @property
    def slots_done(self) -> int:
        return self.slots_filled + self.slots_skipped + self.slots_failed

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.slots_done / self.slots_total) if self.slots_total else 0

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
