"""Property: whatever the cameras, batches, segments and policies, cleanup never deletes
a protected image, leaves no file of a deleted image, and leaves no frame row dangling."""

from __future__ import annotations

import tempfile
import zoneinfo
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batches.models import DaySegment, TimelapseBatch, TimelapseImage
from cameras.models import Camera
from captures.models import Image
from captures.retention import Policy, bucket_key, policy_for
from operations.cleanup import run_cleanup
from tests.factories import make_batch, make_camera
from tests.operations.cleanup.conftest import image_file

TIMEZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"]
GRANULARITY = st.sampled_from(["hour", "day", "none"])
TIERS = st.lists(
    st.fixed_dictionaries({"after_days": st.integers(0, 12), "keep_one_per": GRANULARITY}),
    max_size=3,
    unique_by=lambda t: t["after_days"],
)

IMAGE = st.fixed_dictionaries(
    {
        "age_hours": st.floats(0, 24 * 16, allow_nan=False),
        "quality": st.none() | st.integers(0, 100),
    }
)
BATCH = st.fixed_dictionaries(
    {
        "type": st.sampled_from(TimelapseBatch.BatchType.values),
        "status": st.sampled_from(TimelapseBatch.Status.values),
        "picks": st.lists(st.integers(0, 30), max_size=6, unique=True),
        "deleted": st.booleans(),
    }
)
CAMERA = st.fixed_dictionaries(
    {
        "timezone": st.sampled_from(TIMEZONES),
        "continuous_mode": st.sampled_from(Camera.ContinuousMode.values),
        "retention_days": st.none() | st.integers(0, 10),
        "thinning_tiers": st.none() | TIERS,
        "images": st.lists(IMAGE, max_size=12),
        "batches": st.lists(BATCH, max_size=3),
        # Segments: which image's day gets one, and how far it covers past that image.
        "segments": st.lists(st.tuples(st.integers(0, 30), st.integers(-90, 90)), max_size=4),
    }
)
WORLD = st.fixed_dictionaries(
    {
        "retention_days": st.integers(0, 10),
        "tiers": st.sampled_from(["", "2:hour", "1:hour,5:day", "3:day,8:none", "4:none"]),
        "cameras": st.lists(CAMERA, min_size=1, max_size=3),
    }
)


def build(world: dict, now):
    """Create the world; return (camera, images) pairs."""
    built = []
    for spec in world["cameras"]:
        camera = make_camera(
            timezone=spec["timezone"],
            continuous_mode=spec["continuous_mode"],
            retention_days=spec["retention_days"],
            thinning_tiers=spec["thinning_tiers"],
        )
        images = [
            image_file(camera, now - timedelta(hours=i["age_hours"]), quality=i["quality"])
            for i in spec["images"]
        ]
        for b in spec["batches"]:
            frames = [images[p] for p in b["picks"] if p < len(images)]
            batch = make_batch(camera, frames, batch_type=b["type"], status=b["status"])
            if b["deleted"]:
                batch.delete()
        tz = zoneinfo.ZoneInfo(camera.timezone)
        for pick, minutes in spec["segments"]:
            if pick < len(images):
                image = images[pick]
                DaySegment.objects.update_or_create(
                    camera=camera,
                    local_date=image.captured_at.astimezone(tz).date(),
                    defaults={
                        "settings_hash": "h",
                        "last_captured_at": image.captured_at + timedelta(minutes=minutes),
                        "file_path": "videos/segment.mp4",
                    },
                )
        built.append((camera, images))
    return built


def must_survive(camera: Camera, image: Image, policy: Policy, now) -> bool:
    """The oracle, written from the rules rather than from the cleanup code."""
    if now - image.captured_at < timedelta(days=policy.keep_all_days):
        return True
    if TimelapseImage.objects.filter(
        image_id=image.pk,
        timelapse_batch__batch_type__in=["checkpoint", "manual"],
        timelapse_batch__status__in=["completed", "processing"],
    ).exists():
        return True
    if camera.continuous_mode != "off":
        local_day = image.captured_at.astimezone(zoneinfo.ZoneInfo(camera.timezone)).date()
        segment = DaySegment.objects.filter(camera=camera, local_date=local_day).first()
        if segment is None or segment.last_captured_at < image.captured_at:
            return True
    return False


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=WORLD)
def test_cleanup_never_deletes_protected_images_nor_leaves_dangling_rows_or_files(world, policy_env):
    now = timezone.now()
    with (
        tempfile.TemporaryDirectory() as data,
        override_settings(
            DATA_DIR=Path(data),
            TIMELAPSER_RETENTION_DAYS=world["retention_days"],
            TIMELAPSER_THINNING_TIERS=world["tiers"],
        ),
        transaction.atomic(),
    ):
        built = build(world, now)
        policies = {camera.pk: policy_for(camera) for camera, _ in built}

        run_cleanup(now=now)

        surviving = set(Image.objects.values_list("pk", flat=True))
        for camera, images in built:
            policy = policies[camera.pk]
            buckets: dict[tuple, list[Image]] = {}
            for image in images:
                path = Path(data) / image.file_path
                if must_survive(camera, image, policy, now):
                    assert image.pk in surviving, f"protected image {image.pk} was deleted"
                if image.pk in surviving:
                    assert path.exists(), f"image {image.pk} lost its file"
                else:
                    assert not path.exists(), f"deleted image {image.pk} left its file"
                tier = policy.tier_for_age(now - image.captured_at)
                past_keep_all = now - image.captured_at >= timedelta(days=policy.keep_all_days)
                if past_keep_all and tier and tier.keep_one_per != "none":
                    key = bucket_key(tier.keep_one_per, image.captured_at, zoneinfo.ZoneInfo(camera.timezone))
                    buckets.setdefault(key, []).append(image)
            # Thinning keeps exactly one unprotected-or-better image per bucket: never none.
            for members in buckets.values():
                assert any(m.pk in surviving for m in members), "a thinning bucket lost every image"
        assert not TimelapseImage.objects.exclude(image_id__in=Image.objects.values("pk")).exists()
        transaction.set_rollback(True)
