"""API tokens, webhook endpoints and their deliveries (not in the seed; the API issue, #14)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “Home Assistant”.")
    scope = models.CharField(max_length=10, choices=Scope, default=Scope.READ)
    # SHA-256 of the token: the token itself is shown once and never stored. A random
    # 32-byte token needs no salt or slow hash; finding it by its hash is the compare.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The token's first characters, so an operator can tell tokens apart in lists.
    prefix = models.CharField(max_length=12, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(condition=Q(scope__in=["read", "write"]), name="api_tokens_scope_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE


class Webhook(models.Model):
    class Event(models.TextChoices):
        CAMERA_DOWN = "camera.down", "Camera down"
        CAMERA_UP = "camera.up", "Camera back up"
        RENDER_COMPLETED = "render.completed", "Render completed"
        RENDER_FAILED = "render.failed", "Render failed"
        SHARE_EXPIRING = "share.expiring", "Share expiring"

    name = models.CharField(max_length=100)
    # May hold a token of the receiving service (Slack, Home Assistant): shown only by host.
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="The events this URL is told about.")
    enabled = models.BooleanField(default=True)
    # The signing secret is HMAC(key derived from SECRET_KEY, salt): a database dump alone
    # does not give it away, and a new salt is a new secret.
    secret_salt = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "webhooks"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=Webhook.Event)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    attempts = models.IntegerField(default=0)
    # The receiver's last HTTP status, or null when it never answered.
    response_status = models.IntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webhook_deliveries"
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The admin's delivery log per webhook, newest first.
            models.Index(fields=["webhook", "-created_at"], name="idx_deliveries_webhook"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]),
                name="webhook_deliveries_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook} ({self.status})"
