"""The rest of a cleanup run: orphan files, old attempts, superseded continuous videos."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from batches.models import TimelapseBatch, TimelapseImage
from captures.models import CaptureAttempt
from operations.cleanup import run_cleanup
from sharing.models import ShareBatch
from tests.factories import make_batch, make_camera, make_share
from tests.operations.cleanup.conftest import days_ago, image_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir", "policy_env")]


def stray_file(relative: str, hours_old: float) -> Path:
    path = Path(settings.DATA_DIR) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a jpeg")
    then = time.time() - hours_old * 3600
    os.utime(path, (then, then))
    return path


def test_sweep_removes_old_unreferenced_files_and_keeps_referenced_and_fresh_ones():
    camera = make_camera()
    image = image_file(camera, days_ago(1))
    old = time.time() - 48 * 3600
    os.utime(Path(settings.DATA_DIR) / image.file_path, (old, old))
    day_dir = Path(image.file_path).parent.as_posix()
    orphan = stray_file(f"{day_dir}/crashed.jpg", hours_old=24)
    writing = stray_file(f"{day_dir}/being-written.jpg.tmp", hours_old=0.1)
    unknown_camera = stray_file("images/deleted-camera/2026/01/02/x.jpg", hours_old=24)
    empty_day = Path(settings.DATA_DIR) / "images/deleted-camera/2025/12/31"
    empty_day.mkdir(parents=True)
    os.utime(empty_day, (old, old))

    report = run_cleanup()

    assert report.orphan_files == 2
    assert not orphan.exists() and not unknown_camera.exists()
    # Empty directories go once they are past the grace period too (a capture
    # may have just made one); the one just emptied waits for the next night.
    assert not empty_day.exists()
    assert unknown_camera.parent.exists()
    assert writing.exists()
    assert (Path(settings.DATA_DIR) / image.file_path).exists()


def test_sweep_finds_references_filed_under_another_day():
    """An imported image whose directory date is far from its captured_at is still referenced."""
    camera = make_camera()
    image = image_file(camera, days_ago(1))
    old = time.time() - 48 * 3600
    os.utime(Path(settings.DATA_DIR) / image.file_path, (old, old))
    moved = f"images/{camera.pk}/2020/01/01/{image.pk}.jpg"
    stray_file(moved, hours_old=24)
    image.file_path = moved
    image.save(update_fields=["file_path"])

    report = run_cleanup(dry_run=True)

    assert report.orphan_files == 1  # only the file at the old path


def test_dry_run_sweeps_nothing():
    orphan = stray_file("images/1/2026/01/02/x.jpg", hours_old=24)
    report = run_cleanup(dry_run=True)
    assert report.orphan_files == 1 and orphan.exists()


def test_old_capture_attempts_are_pruned():
    camera = make_camera()
    old = CaptureAttempt.objects.create(camera=camera, status="failed", attempted_at=days_ago(91))
    recent = CaptureAttempt.objects.create(camera=camera, status="failed", attempted_at=days_ago(89))

    assert run_cleanup(dry_run=True).attempts_pruned == 1
    assert run_cleanup().attempts_pruned == 1

    assert not CaptureAttempt.objects.filter(pk=old.pk).exists()
    assert CaptureAttempt.objects.filter(pk=recent.pk).exists()


def test_an_attempt_outlives_its_cleaned_up_image():
    camera = make_camera()
    image = image_file(camera, days_ago(40))
    attempt = CaptureAttempt.objects.create(camera=camera, status="success", image=image)
    run_cleanup()
    attempt.refresh_from_db()
    assert attempt.image_id is None


def video(camera, name: str, completed_days_ago: float, **fields) -> TimelapseBatch:
    path = Path(settings.DATA_DIR) / "videos" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"mp4")
    fields.setdefault("status", TimelapseBatch.Status.COMPLETED)
    fields.setdefault("published_path", f"videos/{name}")
    at = timezone.now() - timedelta(days=completed_days_ago)
    return make_batch(
        camera,
        fields.pop("images", ()),
        batch_type=TimelapseBatch.BatchType.CONTINUOUS,
        generation_mode=TimelapseBatch.GenerationMode.PERIODIC,
        output_path=f"videos/{name}",
        completed_at=at,
        published_at=at if fields["published_path"] else None,
        **fields,
    )


def test_superseded_continuous_videos_go_and_their_shares_follow_the_newest():
    camera = make_camera()
    frame = image_file(camera, days_ago(1))
    oldest = video(camera, "a.mp4", 3, images=[frame])
    older = video(camera, "b.mp4", 2)
    newest = video(camera, "c.mp4", 1)
    # Rendering its first video: nothing published yet, so it neither wins nor goes.
    rendering = video(camera, "d.mp4", 0, status=TimelapseBatch.Status.PROCESSING, published_path=None)
    share = make_share([older])
    both = make_share([oldest, newest])

    report = run_cleanup()

    assert set(TimelapseBatch.objects.values_list("pk", flat=True)) == {newest.pk, rendering.pk}
    assert not (Path(settings.DATA_DIR) / "videos/a.mp4").exists()
    assert not (Path(settings.DATA_DIR) / "videos/b.mp4").exists()
    assert (Path(settings.DATA_DIR) / "videos/c.mp4").exists()
    assert list(ShareBatch.objects.filter(share=share).values_list("timelapse_batch", flat=True)) == [
        newest.pk
    ]
    assert list(ShareBatch.objects.filter(share=both).values_list("timelapse_batch", flat=True)) == [
        newest.pk
    ]
    assert not TimelapseImage.objects.filter(timelapse_batch_id=oldest.pk).exists()
    assert report.outputs_removed == 2 and report.shares_repointed == 2


def test_a_video_file_rewritten_in_place_is_not_deleted():
    camera = make_camera()
    video(camera, "live.mp4", 2)
    newest = video(camera, "live.mp4", 1)
    run_cleanup()
    assert list(TimelapseBatch.objects.values_list("pk", flat=True)) == [newest.pk]
    assert (Path(settings.DATA_DIR) / "videos/live.mp4").exists()


def test_dry_run_keeps_superseded_videos():
    camera = make_camera()
    video(camera, "a.mp4", 2)
    video(camera, "b.mp4", 1)
    assert run_cleanup(dry_run=True).outputs_removed == 1
    assert TimelapseBatch.objects.count() == 2
