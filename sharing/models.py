"""Public shares of rendered timelapses (seed `shares`, `share_batches`, `share_customization`)."""

from __future__ import annotations

import uuid

from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from batches.models import RenderSettings


def default_theme_config() -> dict:
    # The seed's default had a trailing comma (invalid JSON); this is the valid form,
    # with the light/dark theme its examples use.
    return {"primary_color": "#007bff", "theme": "light"}


def default_display_options() -> dict:
    return {
        "show_camera_info": True,
        "show_day_counter": True,
        "show_date_range": True,
        "show_technical_info": False,
        "show_generation_time": False,
        "layout": "grid",
    }


class ShareQuerySet(models.QuerySet):
    def live(self) -> ShareQuerySet:
        """Shares the public may see now: active and not expired."""
        return self.filter(is_active=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


class Share(models.Model):
    class ShareType(models.TextChoices):
        VIDEO_ONLY = "video_only", "Video only"
        INFO_PAGE = "info_page", "Info page"
        GALLERY = "gallery", "Gallery"

    class AccessType(models.TextChoices):
        PUBLIC = "public", "Public"
        PASSWORD = "password", "Password"

    # uuid4 draws from os.urandom (a CSPRNG), so tokens cannot be guessed.
    share_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Not in the seed's table but in its examples ("project2024"): an optional vanity path.
    slug = models.SlugField(max_length=64, unique=True, null=True, blank=True)
    title = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    share_type = models.CharField(max_length=20, choices=ShareType)
    is_active = models.BooleanField(default=True)
    download_enabled = models.BooleanField(default=False)
    embed_enabled = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Maintained by a trigger on PostgreSQL (sharing/migrations/0002); unused on SQLite.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    # The seed's queries use these three, but its CREATE TABLE forgot them.
    view_count = models.BigIntegerField(default=0, editable=False)
    access_type = models.CharField(max_length=20, choices=AccessType, default=AccessType.PUBLIC)
    creator_name = models.CharField(max_length=255, null=True, blank=True)
    # Django password hash; set when access_type is "password".
    password_hash = models.CharField(max_length=255, null=True, blank=True, editable=False)
    # Hosts allowed to frame /embed/<token>; empty means any.
    embed_allowed_domains = models.JSONField(default=list, blank=True)

    objects = ShareQuerySet.as_manager()

    class Meta:
        db_table = "shares"
        ordering = ["-created_at"]
        indexes = [
            # The live-share check on every public request. The seed's
            # idx_shares_token is left out: UNIQUE already indexes share_token.
            models.Index(fields=["is_active", "expires_at"], name="idx_shares_active"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_type__in=["video_only", "info_page", "gallery"]),
                name="shares_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(access_type__in=["public", "password"]),
                name="shares_access_type_valid",
            ),
            models.CheckConstraint(condition=Q(view_count__gte=0), name="shares_view_count_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def token(self) -> str:
        """What goes in public URLs: the vanity slug when there is one."""
        return self.slug or str(self.share_token)


class ShareBatch(models.Model):
    share = models.ForeignKey(
        Share, on_delete=models.DO_NOTHING, related_name="share_batches", db_index=False
    )
    timelapse_batch = models.ForeignKey(
        "batches.TimelapseBatch", on_delete=models.DO_NOTHING, related_name="share_links"
    )
    display_order = models.IntegerField(default=1)
    custom_title = models.CharField(max_length=255, null=True, blank=True)
    show_metadata = models.BooleanField(default=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "share_batches"
        ordering = ["share", "display_order"]
        indexes = [models.Index(fields=["share", "display_order"], name="idx_share_batches_share")]
        constraints = [
            models.UniqueConstraint(
                fields=["share", "timelapse_batch"], name="share_batches_share_batch_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.custom_title or f"batch {self.timelapse_batch_id}"


class ShareCustomization(models.Model):
    # The seed declared this foreign key twice (inline and as a table constraint)
    # and allowed several rows per share; one-to-one says what it means.
    share = models.OneToOneField(Share, on_delete=models.DO_NOTHING, related_name="customization")
    theme_config = models.JSONField(default=default_theme_config, blank=True)
    display_options = models.JSONField(default=default_display_options, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "share_customization"

    def __str__(self) -> str:
        return f"customization of share {self.share_id}"


class ShareWatermark(models.Model):
    """A share's own logo (not in the seed): drawn instead of the camera's on videos rendered for it.

    Only renders made for this share carry it, which are its period videos
    (sharing.periods); a share of an already rendered batch shows that batch's
    pixels. Its own table, like batches.RenderSettings: a column with a default
    on `shares` would make SQLite rebuild that table and drop its triggers.
    """

    Corner = RenderSettings.Corner

    share = models.OneToOneField(
        Share, on_delete=models.DO_NOTHING, primary_key=True, related_name="watermark"
    )
    # A PNG under DATA_DIR/branding/shares/<share>, written by the upload (batches.watermark), never typed.
    path = models.TextField(null=True, blank=True, editable=False)
    position = models.CharField(max_length=20, choices=Corner, default=Corner.BOTTOM_RIGHT)
    width_percent = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Logo width as a percentage of the video's width.",
    )
    opacity = models.FloatField(
        default=0.8, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)], help_text="0 to 1."
    )

    class Meta:
        db_table = "share_watermarks"

    def __str__(self) -> str:
        return f"logo of share {self.share_id}"

    def as_selection(self) -> dict | None:
        """What a batch's selection carries so the render draws this logo (batches.frames reads it)."""
        if not self.path:
            return None
        return {
            "path": self.path,
            "corner": self.position,
            "width_percent": self.width_percent,
            "opacity": self.opacity,
        }


class PeriodVideo(models.Model):
    """A camera's self-updating "last 7 days", "this month" or "whole project" video (not in the seed).

    One batch is rendered again and again (sharing.periods), so the share that
    links it keeps its URL, and lifecycle.complete() switches the published
    file in one step: the link plays the old video until the new one is ready.
    """

    class Kind(models.TextChoices):
        LAST_7_DAYS = "last_7_days", "Last 7 days"
        THIS_MONTH = "this_month", "This month"
        WHOLE_PROJECT = "whole_project", "Whole project"

    camera = models.ForeignKey(
        "cameras.Camera", on_delete=models.DO_NOTHING, related_name="period_videos", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind)
    enabled = models.BooleanField(default=False)
    # Made on the first render and kept: its token is the stable link.
    share = models.OneToOneField(
        Share, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="period_video"
    )
    batch = models.ForeignKey(
        "batches.TimelapseBatch", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    # What the last queued render held (frames, newest capture, logo); another value means stale.
    signature = models.CharField(max_length=64, blank=True, default="", editable=False)
    last_rendered_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "period_videos"
        ordering = ["camera", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["camera", "kind"], name="period_videos_camera_kind_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["last_7_days", "this_month", "whole_project"]),
                name="period_videos_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of camera {self.camera_id}"
