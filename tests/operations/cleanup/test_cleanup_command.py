"""`manage.py cleanup`: what goes, what stays and why, and --dry-run changing nothing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from batches.models import DaySegment, TimelapseBatch, TimelapseImage
from cameras.models import Camera
from captures.models import Image
from operations.cleanup import CleanupBusy, run_cleanup
from tests.factories import make_batch, make_camera
from tests.operations.cleanup.conftest import cleanup_lock_held, days_ago, file_of, image_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir", "policy_env")]


def cleanup(*args) -> str:
    out = StringIO()
    call_command("cleanup", *args, stdout=out)
    return out.getvalue()


def exists(image) -> bool:
    return Image.objects.filter(pk=image.pk).exists()


def test_images_past_retention_go_with_their_files_and_recent_ones_stay():
    camera = make_camera(name="gate")
    old = image_file(camera, days_ago(31))
    recent = image_file(camera, days_ago(29))

    output = cleanup()

    assert not exists(old) and not file_of(old).exists()
    assert exists(recent) and file_of(recent).exists()
    assert "gate: deleted 1 images (4 B); kept 1 by age, 0 protected, 0 by tier" in output


def test_dry_run_reports_the_same_and_changes_nothing():
    camera = make_camera(name="gate")
    old = [image_file(camera, days_ago(40 + i)) for i in range(3)]

    output = cleanup("--dry-run")

    assert "Dry run" in output
    assert "gate: would delete 3 images (12 B)" in output
    assert all(exists(image) and file_of(image).exists() for image in old)


def test_camera_retention_overrides_the_default():
    camera = make_camera(retention_days=5)
    image = image_file(camera, days_ago(6))
    cleanup()
    assert not exists(image)


def test_only_the_named_camera_is_cleaned():
    mine = make_camera(name="mine")
    other = make_camera(name="other")
    gone = image_file(mine, days_ago(40))
    kept = image_file(other, days_ago(40))

    output = cleanup("--camera", "mine")

    assert not exists(gone) and exists(kept)
    assert "other" not in output


def test_unknown_camera_is_a_clear_error():
    with pytest.raises(CommandError, match="No camera named nosuch"):
        cleanup("--camera", "nosuch")


@pytest.mark.parametrize(
    ("batch_type", "status", "protects"),
    [
        ("manual", "completed", True),
        ("checkpoint", "completed", True),
        ("manual", "processing", True),
        ("manual", "pending", False),
        ("checkpoint", "failed", False),
        ("continuous", "completed", False),
    ],
)
def test_only_completed_or_rendering_checkpoint_and_manual_batches_protect(batch_type, status, protects):
    camera = make_camera()
    image = image_file(camera, days_ago(60))
    batch = make_batch(camera, [image], batch_type=batch_type, status=status)

    output = cleanup()

    assert exists(image) is protects
    assert file_of(image).exists() is protects
    if not protects:
        # The database's ON DELETE rule removed the frame row with the image.
        assert not TimelapseImage.objects.filter(timelapse_batch=batch).exists()
    else:
        assert "1 protected" in output


def test_a_deleted_batch_stops_protecting():
    camera = make_camera()
    image = image_file(camera, days_ago(60))
    make_batch(camera, [image], status="completed").delete()
    cleanup()
    assert not exists(image)


def test_continuous_images_wait_for_their_day_segment():
    camera = make_camera(continuous_mode=Camera.ContinuousMode.PERIODIC, timezone="UTC")
    covered = image_file(camera, days_ago(50))
    after_segment = image_file(camera, covered.captured_at + timedelta(minutes=10))
    no_segment = image_file(camera, days_ago(45))
    DaySegment.objects.create(
        camera=camera,
        local_date=covered.captured_at.date(),
        settings_hash="x",
        last_captured_at=covered.captured_at + timedelta(minutes=1),
        file_path="videos/x.mp4",
    )

    output = cleanup()

    assert not exists(covered)
    assert exists(after_segment) and exists(no_segment)
    assert "deleted 1 images" in output and "2 protected" in output


def test_thinning_keeps_the_best_image_of_each_local_hour():
    camera = make_camera(timezone="Asia/Kolkata", thinning_tiers=[{"after_days": 30, "keep_one_per": "hour"}])
    # Kolkata is UTC+5:30: 10:00 and 10:20 UTC share local hour 15:00-16:00; 10:40 starts 16:00.
    base = (timezone.now() - timedelta(days=40)).replace(hour=10, minute=0, second=0, microsecond=0)
    plain = image_file(camera, base, quality=50)
    best = image_file(camera, base + timedelta(minutes=20), quality=90)
    alone = image_file(camera, base + timedelta(minutes=40), quality=10)

    output = cleanup()

    assert not exists(plain) and not file_of(plain).exists()
    assert exists(best) and exists(alone)
    assert "2 by tier" in output


def test_thinning_ties_keep_the_earliest_and_a_none_tier_deletes():
    camera = make_camera(
        timezone="UTC",
        thinning_tiers=[
            {"after_days": 30, "keep_one_per": "day"},
            {"after_days": 100, "keep_one_per": "none"},
        ],
    )
    day = (timezone.now() - timedelta(days=40)).replace(hour=8, minute=0, second=0, microsecond=0)
    first = image_file(camera, day)
    later = image_file(camera, day + timedelta(hours=3))
    ancient = image_file(camera, days_ago(120))

    cleanup()

    assert exists(first) and not exists(later) and not exists(ancient)


def test_thinning_is_stable_from_one_night_to_the_next():
    camera = make_camera(timezone="UTC", thinning_tiers=[{"after_days": 30, "keep_one_per": "hour"}])
    hour = (timezone.now() - timedelta(days=35)).replace(minute=0, second=0, microsecond=0)
    images = [
        image_file(camera, hour + timedelta(minutes=m), quality=q) for m, q in [(0, 5), (10, 7), (20, 6)]
    ]

    cleanup()
    second = cleanup()

    assert [exists(i) for i in images] == [False, True, False]
    assert "deleted 0 images" in second


def test_pages_carry_a_bucket_across_the_page_boundary():
    """GIVEN one hour bucket split over two keyset pages WHEN cleaned with tiny pages THEN one image stays."""
    from operations.cleanup import Report, clean_images

    camera = make_camera(timezone="UTC", thinning_tiers=[{"after_days": 30, "keep_one_per": "hour"}])
    hour = (timezone.now() - timedelta(days=35)).replace(minute=0, second=0, microsecond=0)
    images = [image_file(camera, hour + timedelta(minutes=m), quality=m) for m in range(0, 50, 10)]

    [report] = clean_images([camera], now=timezone.now(), dry_run=False, report=Report(False), page_size=2)

    assert [exists(i) for i in images] == [False, False, False, False, True]
    assert report.deleted == 4 and report.kept_tier == 1


def test_files_are_never_deleted_outside_the_data_dir(tmp_path):
    camera = make_camera()
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    image = image_file(camera, days_ago(60))
    Image.objects.filter(pk=image.pk).update(file_path="../precious.txt")
    cleanup()
    assert not exists(image)
    assert outside.exists()


def test_a_second_run_while_one_runs_is_refused():
    with cleanup_lock_held():
        with pytest.raises(CleanupBusy):
            run_cleanup()
        with pytest.raises(CommandError, match="Another cleanup is running"):
            cleanup()
    run_cleanup()  # the lock is free again


def test_batch_rows_left_in_pending_batches_still_point_at_images():
    camera = make_camera()
    keep = image_file(camera, days_ago(1))
    gone = image_file(camera, days_ago(60))
    batch = make_batch(camera, [keep, gone], status=TimelapseBatch.Status.PENDING)
    cleanup()
    assert list(TimelapseImage.objects.filter(timelapse_batch=batch).values_list("image_id", flat=True)) == [
        keep.pk
    ]


def test_a_camera_with_an_invalid_policy_is_skipped_and_the_others_are_cleaned():
    broken = make_camera(name="broken", thinning_tiers=[{"after_days": 3, "keep_one_per": "fortnight"}])
    fine = make_camera(name="fine")
    untouched = image_file(broken, days_ago(60))
    gone = image_file(fine, days_ago(60))
    err = StringIO()

    call_command("cleanup", stdout=StringIO(), stderr=err)

    assert exists(untouched) and not exists(gone)
    assert "broken: skipped, its retention policy is invalid" in err.getvalue()


def test_the_delete_itself_spares_images_a_batch_took_after_the_page_was_read():
    """GIVEN images chosen for deletion WHEN a completed batch takes one and a pending batch
    another before the DELETE runs THEN the protected one keeps its row, frame and file, and the
    other goes with its frame row and file."""
    from operations.cleanup import delete_images

    camera = make_camera()
    taken, pending, plain = (image_file(camera, days_ago(60)) for _ in range(3))
    completed = make_batch(camera, [taken], status=TimelapseBatch.Status.COMPLETED)
    make_batch(camera, [pending], status=TimelapseBatch.Status.PENDING)

    deleted = delete_images([taken.pk, pending.pk, plain.pk])

    assert sorted(path for _, path, _ in deleted) == sorted([pending.file_path, plain.file_path])
    assert exists(taken) and file_of(taken).exists()
    assert TimelapseImage.objects.filter(timelapse_batch=completed, image=taken).exists()
    assert not exists(pending) and not file_of(pending).exists()
    assert not exists(plain) and not file_of(plain).exists()
    assert not TimelapseImage.objects.filter(image_id=pending.pk).exists()
