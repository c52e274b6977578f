"""Plain factory functions for test rows (no extra dependency needed)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime

from django.utils import timezone

from batches.models import TimelapseBatch, TimelapseImage
from cameras.models import Camera
from captures.models import Image
from sharing.models import Share, ShareBatch

_counter = itertools.count(1)


def make_camera(**fields) -> Camera:
    n = next(_counter)
    fields.setdefault("name", f"camera-{n}")
    fields.setdefault("url_hash", hashlib.sha256(f"camera-{n}".encode()).hexdigest())
    return Camera.objects.create(**fields)


def make_image(camera: Camera, captured_at: datetime | None = None, **fields) -> Image:
    n = next(_counter)
    fields.setdefault("filename", f"{n:08d}.jpg")
    fields.setdefault("file_path", f"images/{camera.pk}/{n:08d}.jpg")
    fields.setdefault("file_size_bytes", 1000)
    fields.setdefault("format", "JPEG")
    return Image.objects.create(camera=camera, captured_at=captured_at or timezone.now(), **fields)


def make_batch(camera: Camera, images=(), **fields) -> TimelapseBatch:
    fields.setdefault("batch_type", TimelapseBatch.BatchType.MANUAL)
    fields.setdefault("generation_mode", TimelapseBatch.GenerationMode.MANUAL_ONLY)
    batch = TimelapseBatch.objects.create(camera=camera, total_frames=len(images), **fields)
    TimelapseImage.objects.bulk_create(
        TimelapseImage(timelapse_batch=batch, image=image, sequence_order=i)
        for i, image in enumerate(images, start=1)
    )
    return batch


def make_share(batches=(), **fields) -> Share:
    fields.setdefault("title", "Site timelapse")
    fields.setdefault("share_type", Share.ShareType.VIDEO_ONLY)
    share = Share.objects.create(**fields)
    for order, batch in enumerate(batches, start=1):
        ShareBatch.objects.create(share=share, timelapse_batch=batch, display_order=order)
    return share
