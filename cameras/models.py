"""Cameras (seed table `cameras`): what to capture, how often, and how to label frames."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from cameras.signals import day_counter_changed

# What a day number depends on: a change to any of them renumbers the camera's images.
DAY_COUNTER_FIELDS = ("day_counter_enabled", "day_counter_start_date", "timezone")


def default_overlay_style() -> dict:
    return {
        "font_size": 24,
        "font_color": "#FFFFFF",
        "background_color": "#000000",
        "background_opacity": 0.7,
        "font_family": "Arial",
    }


def default_timezone() -> str:
    return settings.TIME_ZONE


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"Unknown time zone: {value!r}") from exc


def day_number_for(start: date | None, captured_at: datetime, tz_name: str) -> int | None:
    """Day N of a capture: calendar days in the camera's own time zone, day 1 = start date.

    The same arithmetic as the PostgreSQL trigger (see cameras/migrations/0002).
    Captures before the start date get no number rather than "Day 0" or "Day -3".
    """
    if start is None:
        return None
    local_day = captured_at.astimezone(zoneinfo.ZoneInfo(tz_name)).date()
    if local_day < start:
        return None
    return (local_day - start).days + 1


class ProtectConsole(models.Model):
    """A UniFi Protect console: one address, one API key, one request budget for its cameras.

    The API key (and the local user that reads recordings) live in the encrypted
    secrets file like every camera secret; `secret_ref` says where.
    """

    name = models.CharField(max_length=255, unique=True)
    # host or host:port as the operator typed it, lower-cased; port 443 left out.
    address = models.CharField(max_length=255, unique=True)
    secret_ref = models.CharField(max_length=64, editable=False)
    verify_tls = models.BooleanField(
        default=True, help_text="Check the console's certificate against the system's trusted authorities."
    )
    # Trust on first use: the SHA-256 of the certificate the operator accepted. When
    # set it replaces the CA check (consoles ship self-signed certificates).
    certificate_sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "protect_consoles"
        ordering = ["name"]
        verbose_name = "UniFi Protect console"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(certificate_sha256="")
                | models.Q(certificate_sha256__regex=r"^[0-9a-f]{64}$"),
                name="protect_consoles_fingerprint_hex",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def delete(self, *args, **kwargs):
        from cameras.secrets import delete_secret

        ref = self.secret_ref
        with transaction.atomic(using=kwargs.get("using")):
            result = super().delete(*args, **kwargs)
            transaction.on_commit(lambda: delete_secret(ref, missing_ok=True))
        return result


class Camera(models.Model):
    class Rotation(models.TextChoices):
        NONE = "none", "None"
        LEFT = "left", "90° left"
        RIGHT = "right", "90° right"
        INVERT = "invert", "180°"

    class OverlayPosition(models.TextChoices):
        TOP_LEFT = "top-left", "Top left"
        TOP_RIGHT = "top-right", "Top right"
        BOTTOM_LEFT = "bottom-left", "Bottom left"
        BOTTOM_RIGHT = "bottom-right", "Bottom right"

    class ContinuousMode(models.TextChoices):
        OFF = "off", "Off"
        EVERY_CAPTURE = "every_capture", "After every capture (coalesced)"
        PERIODIC = "periodic", "On a schedule"

    class SourceMode(models.TextChoices):
        AUTO = "auto", "Auto: full-HD snapshot where supported, else a frame of the high-quality stream"
        SNAPSHOT = "snapshot", "Snapshot endpoint"
        STREAM = "stream", "One frame of the high-quality RTSPS stream"

    class ProtectChannel(models.TextChoices):
        MAIN = "", "Main camera"
        PACKAGE = "package", "Package camera"

    name = models.CharField(max_length=255, unique=True)
    # HMAC-SHA-256 of the normalised URL; the URL itself is never stored here.
    url_hash = models.CharField(max_length=64, unique=True)
    # Where the real URL and credentials live: "env:VAR" or "secrets:ENTRY".
    encryption_key_ref = models.CharField(max_length=64, null=True, blank=True)
    last_health_check = models.DateTimeField(null=True, blank=True)
    connection_failures = models.IntegerField(default=0)
    enabled = models.BooleanField(default=True)
    rotation = models.CharField(max_length=20, choices=Rotation, default=Rotation.NONE)
    day_counter_enabled = models.BooleanField(default=False)
    day_counter_start_date = models.DateField(null=True, blank=True)
    # Not in the seed: day numbers count calendar days where the camera stands.
    timezone = models.CharField(max_length=64, default=default_timezone, validators=[validate_timezone])
    metadata = models.JSONField(default=dict, blank=True)

    # --- UniFi Protect (not in the seed): set for cameras added from a console ---
    console = models.ForeignKey(
        ProtectConsole, null=True, blank=True, on_delete=models.PROTECT, related_name="cameras"
    )
    protect_camera_id = models.CharField(max_length=64, blank=True, default="")
    protect_channel = models.CharField(
        max_length=16, choices=ProtectChannel, blank=True, default=ProtectChannel.MAIN
    )
    source_mode = models.CharField(max_length=16, choices=SourceMode, default=SourceMode.AUTO)
    # What the console last said about the camera (name, model, state, feature flags).
    protect_info = models.JSONField(default=dict, blank=True, editable=False)
    # Set while the console reports the camera offline (HTTP 503 or DISCONNECTED):
    # captures back off instead of trying every slot.
    offline_since = models.DateTimeField(null=True, blank=True, editable=False)
    day_overlay_position = models.CharField(
        max_length=20, choices=OverlayPosition, default=OverlayPosition.TOP_RIGHT
    )
    day_overlay_style = models.JSONField(default=default_overlay_style, blank=True)

    # --- Schedule (not in the seed; drives the camera's django-celery-beat task) ---
    capture_interval_seconds = models.PositiveIntegerField(default=60)
    # ISO weekdays 1..7 the camera captures on; empty means every day.
    capture_weekdays = models.JSONField(default=list, blank=True)
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    daylight_only = models.BooleanField(default=False)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    sunrise_offset_minutes = models.IntegerField(default=0)
    sunset_offset_minutes = models.IntegerField(default=0)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    # --- Rendering and retention (not in the seed) ---
    continuous_mode = models.CharField(max_length=20, choices=ContinuousMode, default=ContinuousMode.OFF)
    render_max_width = models.PositiveIntegerField(null=True, blank=True)
    # Null means the global default from the environment.
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    # e.g. [{"after_days": 30, "keep_one_per": "hour"}, {"after_days": 180, "keep_one_per": "day"}]
    thinning_tiers = models.JSONField(null=True, blank=True)
    # Set when the operator was told the camera is down, so we say it once.
    down_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Maintained by the database (trigger in 0002) as well as here.
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "cameras"
        ordering = ["name"]
        # Re-encrypting every camera's secrets is not "changing a camera": its own permission.
        permissions = [("rotate_secrets", "Can re-encrypt camera secrets under the newest key")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rotation__in=["none", "left", "right", "invert"]),
                name="cameras_rotation_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    day_overlay_position__in=["top-left", "top-right", "bottom-left", "bottom-right"]
                ),
                name="cameras_overlay_position_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(continuous_mode__in=["off", "every_capture", "periodic"]),
                name="cameras_continuous_mode_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(capture_interval_seconds__gte=1),
                name="cameras_capture_interval_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(connection_failures__gte=0),
                name="cameras_connection_failures_nonnegative",
            ),
            models.CheckConstraint(
                condition=models.Q(source_mode__in=["auto", "snapshot", "stream"]),
                name="cameras_source_mode_valid",
            ),
            # Re-running discovery updates a camera, never adds it twice.
            models.UniqueConstraint(
                fields=["console", "protect_camera_id", "protect_channel"],
                condition=models.Q(console__isnull=False),
                name="cameras_one_per_protect_camera",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # The beat entry follows the camera in the same transaction: a camera
        # disabled here is never fired again, and a failed save leaves no task.
        from cameras.schedule import sync_periodic_task

        update_fields = kwargs.get("update_fields")
        day_counter_before = self._day_counter_in_db(kwargs.get("using"), update_fields)
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            if update_fields is None or {"enabled", "capture_interval_seconds", "encryption_key_ref"} & set(
                update_fields
            ):
                sync_periodic_task(self)
            if day_counter_before is not None and day_counter_before != self._day_counter_now():
                day_counter_changed.send(sender=Camera, camera=self)

    def _day_counter_now(self) -> tuple:
        return tuple(getattr(self, field) for field in DAY_COUNTER_FIELDS)

    def _day_counter_in_db(self, using: str | None, update_fields) -> tuple | None:
        """The stored day-counter settings of an existing camera this save may change, else None."""
        if self._state.adding or self.pk is None:
            return None
        if update_fields is not None and not set(DAY_COUNTER_FIELDS) & set(update_fields):
            return None
        return (
            Camera.objects.using(using or "default")
            .filter(pk=self.pk)
            .values_list(*DAY_COUNTER_FIELDS)
            .first()
        )

    def delete(self, *args, **kwargs):
        from cameras.secrets import delete_secret

        with transaction.atomic(using=kwargs.get("using")):
            task = self.periodic_task
            ref = self.encryption_key_ref
            result = super().delete(*args, **kwargs)
            if task is not None:
                task.delete()
            transaction.on_commit(lambda: delete_secret(ref, missing_ok=True))
        return result

    def clean(self):
        super().clean()
        # Ticked without a date would save and then number nothing, silently.
        if self.day_counter_enabled and self.day_counter_start_date is None:
            raise ValidationError(
                {"day_counter_start_date": "Choose the day the project started, or untick Day counter."}
            )

    # Offline back-off: the interval doubles with each failure, up to this.
    MAX_OFFLINE_BACKOFF_SECONDS = 15 * 60

    def backoff_until(self) -> datetime | None:
        """While the console reports the camera offline, no capture before this time.

        An offline camera tried every slot spends the console's shared request
        budget for nothing; doubling the wait (interval, 2x, 4x ... up to 15
        minutes) still notices within minutes when it comes back.
        """
        if self.offline_since is None or self.last_health_check is None:
            return None
        interval = self.capture_interval_seconds
        doublings = min(max(self.connection_failures - 1, 0), 16)
        wait = min(interval * 2**doublings, max(self.MAX_OFFLINE_BACKOFF_SECONDS, interval))
        # Half an interval early: the beat tick that is due then must not miss by a hair.
        return self.last_health_check + timedelta(seconds=wait - interval / 2)

    @property
    def has_url(self) -> bool:
        return bool(self.url_hash)

    def day_number(self, captured_at: datetime) -> int | None:
        if not self.day_counter_enabled:
            return None
        return day_number_for(self.day_counter_start_date, captured_at, self.timezone)
