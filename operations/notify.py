"""Operator notifications through Apprise: camera down and back up, render failed, disk low, shares expiring.

Messages name cameras, batches and shares only. A camera's URL, credentials and
url_hash never go into a message, and neither does a capture error (it may echo
what the camera said).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from operations.signals import camera_down, camera_up, shares_expiring

logger = logging.getLogger(__name__)

# How long one "disk low" message holds before the next may be sent.
DISK_LOW_QUIET = timedelta(hours=12)
SHARE_EXPIRY_WARNING = timedelta(days=3)
# A render's error message is the operator's best clue, but a message is no place for pages of ffmpeg.
MAX_ERROR_CHARS = 500
# Apprise's notify types (apprise.NotifyType's values), named here so that importing this
# module (every process does, through the signal receivers) does not import Apprise.
INFO, SUCCESS, WARNING, FAILURE = "info", "success", "warning", "failure"


def send(title: str, body: str, notify_type: str = INFO) -> bool:
    """Send one message to every URL in TIMELAPSER_NOTIFY_URLS; True if all accepted it.

    Never raises: a broken notification service must not break the capture or
    render that triggered it. Only the kind of error is logged, because the
    Apprise URLs themselves hold tokens.
    """
    urls = list(settings.TIMELAPSER_NOTIFY_URLS)
    if not urls:
        return False
    # Imported here: Apprise and its plugins cost ~20 MB in each process, and most never send.
    import apprise

    try:
        sender = apprise.Apprise()
        for url in urls:
            if not sender.add(url):
                logger.warning("Ignoring a notification URL Apprise does not understand")
        if not len(sender):
            return False
        delivered = bool(sender.notify(title=title, body=body, notify_type=notify_type))
    except Exception as exc:
        logger.warning("Sending a notification failed: %s", type(exc).__name__)
        return False
    if not delivered:
        logger.warning("A notification service did not accept %r", title)
    return delivered


def send_after_commit(title: str, body: str, notify_type: str = INFO) -> None:
    """Send once the current transaction commits (now if there is none), never for a rollback."""
    transaction.on_commit(lambda: send(title, body, notify_type))


def down_threshold() -> int:
    return max(1, int(settings.TIMELAPSER_NOTIFY_DOWN_AFTER))


# --- Camera down / back up ---------------------------------------------------


def camera_failed(camera) -> bool:
    """Say a camera is down once it failed N times in a row; True if this call said it.

    The capture pipeline keeps `connection_failures` (consecutive failures) up to
    date before it sends `capture_failed`. Two workers may record failures of
    the same camera at once, so the decision is one conditional UPDATE: only the
    call that flips `down_notified_at` from NULL sends the message.
    """
    from cameras.models import Camera

    now = timezone.now()
    flipped = Camera.objects.filter(
        pk=camera.pk, down_notified_at__isnull=True, connection_failures__gte=down_threshold()
    ).update(down_notified_at=now)
    if not flipped:
        return False
    failures = Camera.objects.filter(pk=camera.pk).values_list("connection_failures", flat=True).first()
    send_after_commit(
        f"Camera down: {camera.name}",
        f"Camera “{camera.name}” failed {failures} captures in a row "
        f"(last at {now:%Y-%m-%d %H:%M} UTC). Open the camera in the admin and use Test connection.",
        FAILURE,
    )
    transaction.on_commit(lambda: camera_down.send(sender=type(camera), camera=camera))
    return True


def camera_recovered(camera) -> bool:
    """Say a camera that was reported down captures again; True if this call said it."""
    from cameras.models import Camera

    flipped = Camera.objects.filter(pk=camera.pk, down_notified_at__isnull=False).update(
        down_notified_at=None
    )
    if not flipped:
        return False
    send_after_commit(
        f"Camera back up: {camera.name}",
        f"Camera “{camera.name}” captured an image again at {timezone.now():%Y-%m-%d %H:%M} UTC.",
        SUCCESS,
    )
    transaction.on_commit(lambda: camera_up.send(sender=type(camera), camera=camera))
    return True


def on_capture_failed(sender, camera, attempt=None, **kwargs) -> None:
    camera_failed(camera)


def on_render_failed(sender, batch, **kwargs) -> None:
    notify_render_failed(batch)


def on_image_captured(sender, camera, image=None, **kwargs) -> None:
    # The pipeline read down_notified_at in the transaction that stored the image
    # (captures.ingest), so the common case, a camera that was never reported
    # down, costs no query on every capture.
    if camera.down_notified_at is not None:
        camera_recovered(camera)


# --- Render failed, disk low -------------------------------------------------


def notify_render_failed(batch) -> bool:
    """Tell the operator a render failed and why (batches sends render_failed once per failure)."""
    error = (batch.error_message or "no reason recorded").strip()
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 1] + "…"
    return send(
        f"Render failed: {batch.camera.name} batch #{batch.pk}",
        f"The {batch.get_batch_type_display().lower()} timelapse #{batch.pk} of camera "
        f"“{batch.camera.name}” failed: {error}\nRetry it from the batch page in the admin.",
        FAILURE,
    )


def notify_disk_low(free_percent: float) -> bool:
    """Warn that the data disk is filling up, at most once per DISK_LOW_QUIET.

    cache.add is atomic, so of several callers at once only one sends. With the
    default per-process cache the quiet period is per worker process; with
    CACHE_URL pointing at Redis it holds for the whole installation.
    """
    if not cache.add("timelapser:notify:disk-low", True, timeout=int(DISK_LOW_QUIET.total_seconds())):
        return False
    return send(
        "Disk space low",
        f"Only {free_percent:.1f}% of the Timelapser data disk is free. "
        "Old images are cleaned up by the retention policy; consider shorter retention or a bigger disk.",
        WARNING,
    )


# --- Shares expiring ---------------------------------------------------------


def expiring_shares(within: timedelta = SHARE_EXPIRY_WARNING):
    from sharing.models import Share

    now = timezone.now()
    return Share.objects.filter(is_active=True, expires_at__gt=now, expires_at__lte=now + within).order_by(
        "expires_at"
    )


def warn_expiring_shares() -> int:
    """Daily: one message listing the active shares that expire within three days.

    A daily digest rather than one message per share: each share shows up on the
    (at most three) days before it expires, which is the reminder an operator wants.
    """
    shares = list(expiring_shares())
    if not shares:
        return 0
    shares_expiring.send(sender=type(shares[0]), shares=shares)
    lines = [f"- “{share.title}” expires {share.expires_at:%Y-%m-%d %H:%M} UTC" for share in shares]
    noun = "share expires" if len(shares) == 1 else "shares expire"
    send(
        f"{len(shares)} {noun} within 3 days",
        "\n".join([*lines, "Extend them from the share page in the admin if they should stay up."]),
        WARNING,
    )
    return len(shares)
