"""The admin cannot be turned against the capture record: images, capture attempts and a batch's
frames are written by captures and renders only, and deleting a picture goes the cleanup's way
(its file too, through the media-folder guard; never a frame of a completed timelapse)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from batches.models import TimelapseBatch, TimelapseImage
from captures.models import CaptureAttempt, Image
from tests.factories import make_batch, make_camera
from tests.operations.cleanup.conftest import days_ago, file_of, image_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client, django_user_model, data_dir):
    client.force_login(
        django_user_model.objects.create_superuser("boss", "b@example.com", "pw-long-enough-1")
    )
    return client


@pytest.fixture
def camera(data_dir):
    return make_camera(name="North gate", timezone="UTC")


def test_nobody_adds_or_edits_an_image_attempt_or_frame_by_hand(boss, camera):
    image = image_file(camera, days_ago(2))
    attempt = CaptureAttempt.objects.create(
        camera=camera, status=CaptureAttempt.Status.FAILED, error_message="timeout"
    )
    batch = make_batch(camera, [image], status=TimelapseBatch.Status.COMPLETED)
    frame = TimelapseImage.objects.get(timelapse_batch=batch)
    for name in ["captures_image_add", "captures_captureattempt_add", "batches_timelapseimage_add"]:
        assert boss.get(reverse(f"admin:{name}")).status_code == 403, name

    day_number, captured_at = image.day_number, image.captured_at
    page = boss.post(
        reverse("admin:captures_image_change", args=[image.pk]),
        {"camera": camera.pk, "captured_at_0": "2020-01-01", "captured_at_1": "00:00:00", "width": 1},
    )
    assert page.status_code == 403
    image.refresh_from_db()
    assert (image.day_number, image.captured_at) == (day_number, captured_at)

    page = boss.post(
        reverse("admin:captures_captureattempt_change", args=[attempt.pk]), {"status": "success"}
    )
    assert page.status_code == 403
    attempt.refresh_from_db()
    assert attempt.status == CaptureAttempt.Status.FAILED

    assert (
        boss.post(
            reverse("admin:batches_timelapseimage_delete", args=[frame.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert TimelapseImage.objects.filter(pk=frame.pk).exists()
    # Still readable: the record is there to be looked at.
    assert boss.get(reverse("admin:captures_image_change", args=[image.pk])).status_code == 200
    assert boss.get(reverse("admin:captures_captureattempt_change", args=[attempt.pk])).status_code == 200


def test_deleting_a_picture_takes_its_file_too(boss, camera):
    image = image_file(camera, days_ago(2))
    path = file_of(image)
    page = boss.post(reverse("admin:captures_image_delete", args=[image.pk]), {"post": "yes"})
    assert page.status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not path.exists()


def test_a_frame_of_a_completed_timelapse_is_not_deleted(boss, camera):
    kept = image_file(camera, days_ago(3))
    free = image_file(camera, days_ago(2))
    make_batch(camera, [kept], status=TimelapseBatch.Status.COMPLETED)

    page = boss.post(reverse("admin:captures_image_delete", args=[kept.pk]), {"post": "yes"})
    assert page.status_code == 200
    assert "a frame of a completed timelapse of North gate" in page.content.decode()

    # "Delete selected" with one of them in the timelapse refuses the whole selection.
    page = boss.post(
        reverse("admin:captures_image_changelist"),
        {"action": "delete_selected", "_selected_action": [kept.pk, free.pk], "post": "yes"},
    )
    assert "a frame of a completed timelapse" in page.content.decode()
    assert Image.objects.filter(pk__in=[kept.pk, free.pk]).count() == 2
    assert file_of(kept).exists() and file_of(free).exists()

    # Once the batch failed (a retry would take what remains), the picture may go.
    TimelapseBatch.objects.update(status=TimelapseBatch.Status.FAILED)
    page = boss.post(
        reverse("admin:captures_image_changelist"),
        {"action": "delete_selected", "_selected_action": [kept.pk, free.pk], "post": "yes"},
    )
    assert page.status_code == 302
    assert not Image.objects.filter(pk__in=[kept.pk, free.pk]).exists()
    assert not file_of(kept).exists() and not file_of(free).exists()


def test_a_row_naming_a_file_outside_the_media_folders_loses_only_its_row(boss, camera):
    secret = Path(settings.DATA_DIR) / "secret_key"
    secret.write_text("not for deleting")
    image = image_file(camera, days_ago(2))
    Image.objects.filter(pk=image.pk).update(file_path="images/../secret_key")
    page = boss.post(reverse("admin:captures_image_delete", args=[image.pk]), {"post": "yes"})
    assert page.status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()
    assert secret.read_text() == "not for deleting"
