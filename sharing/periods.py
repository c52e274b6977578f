"""Period videos: a camera's "last 7 days", "this month" and "whole project" videos, kept current.

Each period owns one batch and one share. A refresh that finds new frames (or a
new share logo) puts the batch's frames to the period's images, moves it back
to pending and queues it on the render queue (batches.lifecycle). The batch row
never changes, so the share's link never changes, and its published_* fields
keep pointing at the last finished video until lifecycle.complete() switches
them to the new one in one transaction: the link never goes dark.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from batches import lifecycle
from batches.models import TimelapseBatch, TimelapseImage
from captures.models import Image
from sharing import services
from sharing.models import PeriodVideo, Share, ShareWatermark

log = logging.getLogger(__name__)
Status = TimelapseBatch.Status
Kind = PeriodVideo.Kind


def window_start(kind: str, camera, now: datetime) -> datetime | None:
    """Where the period begins (None: the whole project); "this month" is the camera's local month."""
    if kind == Kind.LAST_7_DAYS:
        return now - timedelta(days=7)
    if kind == Kind.THIS_MONTH:
        local = now.astimezone(zoneinfo.ZoneInfo(camera.timezone))
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return None


def period_images(period: PeriodVideo, now: datetime):
    images = Image.objects.filter(camera_id=period.camera_id, captured_at__lte=now)
    start = window_start(period.kind, period.camera, now)
    return images if start is None else images.filter(captured_at__gte=start)


def _logo(period: PeriodVideo) -> dict | None:
    if period.share_id is None:
        return None
    row = ShareWatermark.objects.filter(share_id=period.share_id).first()
    return row.as_selection() if row else None


def signature(images, logo: dict | None) -> str:
    """A digest of which frames the video would hold and how it looks: a change means stale.

    default=str: PostgreSQL sums a bigint column as a Decimal.

    Count, id range, id sum and newest capture time answer "did an image come,
    go or move?" in one aggregate, without reading every id of a long project.
    """
    facts = images.aggregate(
        n=Count("id"), low=Min("id"), high=Max("id"), total=Sum("id"), at=Max("captured_at")
    )
    facts["at"] = facts["at"].isoformat() if facts["at"] else None
    return hashlib.sha256(json.dumps([facts, logo], sort_keys=True, default=str).encode()).hexdigest()


def refresh(period: PeriodVideo, now: datetime | None = None) -> str:
    """Queue a render of the period's video if it is stale; returns what happened (for logs and tests)."""
    now = now or timezone.now()
    if not period.enabled:
        return "disabled"
    images = period_images(period, now)
    if not images.exists():
        return "no images"
    logo = _logo(period)
    digest = signature(images, logo)
    if period.batch_id and digest == period.signature:
        return "current"
    selection = {"period": period.kind, **({"watermark": logo} if logo else {})}
    with transaction.atomic():
        period = PeriodVideo.objects.select_for_update().select_related("camera").get(pk=period.pk)
        if period.batch_id is None:
            batch = TimelapseBatch.objects.create(
                camera=period.camera,
                batch_type=TimelapseBatch.BatchType.MANUAL,
                generation_mode=TimelapseBatch.GenerationMode.PERIODIC,
                frame_rate=settings.TIMELAPSER_CONTINUOUS_FPS,
                selection=selection,
            )
            period.batch = batch
        else:
            # Only a finished render is restarted: a pending or processing one holds
            # frames a worker is reading; the next refresh catches up.
            moved = TimelapseBatch.objects.filter(
                pk=period.batch_id, status__in=[Status.COMPLETED, Status.FAILED]
            ).update(status=Status.PENDING, attempts=0, frames_done=0, heartbeat_at=now,
                     dropped_frames=[], selection=selection)  # fmt: skip
            if not moved:
                return "busy"
            batch = period.batch
        _set_frames(batch, images)
        if period.share_id is None:
            period.share = services.create_share(
                [batch],
                f"{period.camera.name}: {period.get_kind_display().lower()}",
                is_active=False,
                creator_name="period video",
            )
        period.signature, period.last_rendered_at = digest, now
        period.save(update_fields=["batch", "share", "signature", "last_rendered_at"])
        lifecycle.enqueue(batch.pk)
    log.info("Period video %s (%s) queued as batch %s", period.pk, period.kind, batch.pk)
    return "queued"


def _set_frames(batch: TimelapseBatch, images) -> None:
    """The batch's frames become exactly the period's images, in capture order."""
    TimelapseImage.objects.filter(timelapse_batch=batch).delete()
    ids = list(images.order_by("captured_at", "id").values_list("id", flat=True))
    TimelapseImage.objects.bulk_create(
        (TimelapseImage(timelapse_batch=batch, image_id=pk, sequence_order=i) for i, pk in enumerate(ids, 1)),
        batch_size=2000,
    )
    TimelapseBatch.objects.filter(pk=batch.pk).update(total_frames=len(ids))


def refresh_all(now: datetime | None = None) -> dict[str, int]:
    """Beat: every enabled period video of an enabled camera is brought up to date."""
    outcome: dict[str, int] = {}
    periods = PeriodVideo.objects.filter(enabled=True, camera__enabled=True).select_related("camera")
    for period in periods:
        result = refresh(period, now)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


def set_enabled(camera, kinds: set[str]) -> None:
    """The camera page's tick boxes: these periods on, the others off (their share and batch stay)."""
    for kind in Kind.values:
        PeriodVideo.objects.update_or_create(camera=camera, kind=kind, defaults={"enabled": kind in kinds})


def share_url(share: Share | None) -> str | None:
    from django.urls import reverse

    return reverse("sharing:page", args=[share.token]) if share else None
