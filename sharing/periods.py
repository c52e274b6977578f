"""Period videos: a camera's "last 7 days", "this month" and "whole project" videos, kept current.

Each period owns one batch and one share. A refresh that finds new images (or a
new share logo, or a day that left the period) stages the days to encode as the
batch's frames, moves it back to pending and queues it on the render queue; the
render (batches.segmented) encodes only those days and joins the kept ones. The batch row
never changes, so the share's link never changes, and its published_* fields
keep pointing at the last finished video until lifecycle.complete() switches
them to the new one in one transaction: the link never goes dark.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zoneinfo
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from batches import lifecycle, segmented
from batches.frames import local_day_bounds
from batches.models import TimelapseBatch
from captures.models import Image
from sharing import services
from sharing.models import PeriodVideo, Share, ShareWatermark

log = logging.getLogger(__name__)
Status = TimelapseBatch.Status
Kind = PeriodVideo.Kind


def window(kind: str, camera, now: datetime) -> tuple[date | None, date]:
    """The period's first and last local day (first None: the whole project), in the camera's time zone.

    Whole days, so each day is one segment that never has to be cut: "last 7 days" is
    today and the six days before it, "this month" the camera's local month so far.
    """
    today = now.astimezone(zoneinfo.ZoneInfo(camera.timezone)).date()
    if kind == Kind.LAST_7_DAYS:
        return today - timedelta(days=6), today
    if kind == Kind.THIS_MONTH:
        return today.replace(day=1), today
    return None, today


def period_images(period: PeriodVideo, now: datetime):
    first = window(period.kind, period.camera, now)[0]
    tz = zoneinfo.ZoneInfo(period.camera.timezone)
    images = Image.objects.filter(camera_id=period.camera_id, captured_at__lte=now)
    if first is not None:
        images = images.filter(captured_at__gte=local_day_bounds(first, tz)[0])
    return images


def _logo(period: PeriodVideo) -> dict | None:
    if period.share_id is None:
        return None
    row = ShareWatermark.objects.filter(share_id=period.share_id).first()
    return row.as_selection() if row else None


def signature(selection: dict, newest_image: int | None, look: str | None, web: bool) -> str:
    """A digest of what the video would show: another value means stale.

    The first day (the last is today: only images change what a new day holds), the
    newest image (ids only grow, so a new capture or import moves it and the cleanup
    removing old ones does not), the look (camera settings and logo) and whether it
    has a web rendition (so a video made before it had one, or before the web limit
    was lowered, gets it at the next refresh rather than with the next image). An
    image that goes changes nothing: its day is kept in its segment.
    """
    facts = [selection[segmented.DAYS]["from"], selection.get("watermark"), newest_image, look, web]
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


def _selection(period: PeriodVideo, images, now: datetime) -> dict:
    """The batch's selection for this refresh; what the renders keep there (frame size, prefix) stays."""
    selection = {**(period.batch.selection if period.batch_id else {})}
    selection.pop("watermark", None)
    if segmented.FRAME_SIZE not in selection:
        # The first image's recorded size, so the look (and the signature) is known before a render.
        size = images.order_by("captured_at", "id").values_list("width", "height").first()
        if size and all(size):
            selection[segmented.FRAME_SIZE] = list(size)
    logo = _logo(period)
    first, last = window(period.kind, period.camera, now)
    return {**selection, "period": period.kind, **segmented.days_selection(first, last),
            **({"watermark": logo} if logo else {})}  # fmt: skip


def refresh(period: PeriodVideo, now: datetime | None = None) -> str:
    """Queue a render of the period's video if it is stale; returns what happened (for logs and tests).

    Only the days with new images (or a new look) are staged for encoding; the render
    joins them with the kept segments of the other days (batches.segmented).
    """
    now = now or timezone.now()
    if not period.enabled:
        return "disabled"
    images = period_images(period, now)
    newest = images.aggregate(top=Max("id"))["top"]
    if newest is None:
        # Nothing in the period (a camera offline for a week): the last video, if any, stays.
        return "no images"
    selection = _selection(period, images, now)
    fps = period.batch.frame_rate if period.batch_id else settings.TIMELAPSER_CONTINUOUS_FPS
    look, web = segmented.look_summary(period.camera, fps, selection)
    digest = signature(selection, newest, look, web)
    # A failed render is tried again (a logo put back, a frame's file restored); only a video
    # that was made is left alone while nothing changes.
    if period.batch_id and digest == period.signature and period.batch.status != Status.FAILED:
        return "current"
    with transaction.atomic():
        period = PeriodVideo.objects.select_for_update().select_related("camera").get(pk=period.pk)
        if period.batch_id is None:
            batch = TimelapseBatch.objects.create(
                camera=period.camera,
                batch_type=TimelapseBatch.BatchType.MANUAL,
                generation_mode=TimelapseBatch.GenerationMode.PERIODIC,
                frame_rate=fps,
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
            batch = TimelapseBatch.objects.select_related("camera").get(pk=period.batch_id)
        staged = segmented.stage(batch, images)
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
    log.info("Period video %s (%s) queued as batch %s, %d frame(s) to encode", period.pk, period.kind,
             batch.pk, staged)  # fmt: skip
    return "queued"


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
