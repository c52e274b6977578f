"""Every CHECK, UNIQUE, foreign key and ON DELETE rule of the seed is the database's job."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from batches.models import DaySegment, TimelapseBatch, TimelapseImage
from captures.models import CaptureAttempt, Image
from sharing.models import Share, ShareBatch, ShareCustomization
from tests.factories import make_batch, make_camera, make_image, make_share

pytestmark = pytest.mark.django_db(transaction=True)


def execute(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rejected(sql: str, params=()) -> bool:
    try:
        with transaction.atomic():
            execute(sql, params)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("cameras", "rotation", "sideways"),
        ("cameras", "day_overlay_position", "middle"),
        ("images", "quality_score", 101),
        ("timelapse_batches", "status", "paused"),
        ("timelapse_batches", "batch_type", "weekly"),
        ("timelapse_batches", "generation_mode", "sometimes"),
        ("capture_attempts", "status", "maybe"),
        ("shares", "share_type", "slideshow"),
    ],
)
def test_check_constraints_reject_values_outside_the_seed_lists(table, column, value):
    camera = make_camera()
    image = make_image(camera)
    batch = make_batch(camera, [image])
    make_share([batch])
    CaptureAttempt.objects.create(camera=camera, status="success", image=image)

    assert rejected(f"UPDATE {table} SET {column} = %s", [value])


def test_same_url_hash_twice_is_rejected():
    camera = make_camera()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_camera(url_hash=camera.url_hash)


def test_an_image_appears_once_per_batch_and_each_position_once():
    camera = make_camera()
    first, second = make_image(camera), make_image(camera)
    batch = make_batch(camera, [first])

    with pytest.raises(IntegrityError), transaction.atomic():
        TimelapseImage.objects.create(timelapse_batch=batch, image=first, sequence_order=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        TimelapseImage.objects.create(timelapse_batch=batch, image=second, sequence_order=1)


def test_a_batch_cannot_be_shared_twice_in_one_share():
    camera = make_camera()
    batch = make_batch(camera)
    share = make_share([batch])
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareBatch.objects.create(share=share, timelapse_batch=batch, display_order=2)


def test_foreign_keys_refuse_rows_that_point_at_nothing():
    assert rejected(
        "INSERT INTO images (camera_id, filename, file_path, file_size_bytes, format, captured_at, "
        "processing_metadata, created_at) VALUES (999999, 'a', 'a', 1, 'JPEG', CURRENT_TIMESTAMP, '{}', CURRENT_TIMESTAMP)"
    )


def test_deleting_a_camera_in_sql_cascades_to_everything_it_owns():
    camera = make_camera()
    image = make_image(camera)
    batch = make_batch(camera, [image])
    share = make_share([batch])
    CaptureAttempt.objects.create(camera=camera, status="success", image=image)
    DaySegment.objects.create(
        camera=camera,
        local_date=date(2026, 1, 1),
        settings_hash="x",
        last_captured_at=timezone.now(),
        file_path="s.mp4",
    )

    execute("DELETE FROM cameras WHERE id = %s", [camera.pk])

    assert not Image.objects.exists()
    assert not CaptureAttempt.objects.exists()
    assert not TimelapseBatch.objects.exists()
    assert not TimelapseImage.objects.exists()
    assert not ShareBatch.objects.exists()
    assert not DaySegment.objects.exists()
    assert Share.objects.filter(pk=share.pk).exists()  # a share outlives its videos


def test_deleting_an_image_keeps_its_attempt_and_leaves_batches():
    camera = make_camera()
    image, other = make_image(camera), make_image(camera)
    batch = make_batch(camera, [image, other])
    attempt = CaptureAttempt.objects.create(camera=camera, status="success", image=image)

    execute("DELETE FROM images WHERE id = %s", [image.pk])

    attempt.refresh_from_db()
    assert attempt.image_id is None
    assert list(batch.frames.values_list("image_id", flat=True)) == [other.pk]


def test_deleting_a_batch_removes_its_frame_rows_but_not_the_images():
    camera = make_camera()
    image = make_image(camera)
    batch = make_batch(camera, [image])

    execute("DELETE FROM timelapse_batches WHERE id = %s", [batch.pk])

    assert not TimelapseImage.objects.exists()
    assert Image.objects.filter(pk=image.pk).exists()


def test_deleting_a_share_removes_its_links_and_customization():
    camera = make_camera()
    batch = make_batch(camera)
    share = make_share([batch])
    ShareCustomization.objects.create(share=share)

    execute("DELETE FROM shares WHERE id = %s", [share.pk])

    assert not ShareBatch.objects.exists()
    assert not ShareCustomization.objects.exists()
    assert TimelapseBatch.objects.filter(pk=batch.pk).exists()


def test_orm_delete_of_a_camera_relies_on_the_database():
    camera = make_camera()
    make_batch(camera, [make_image(camera)])

    camera.delete()

    assert not Image.objects.exists()
    assert not TimelapseImage.objects.exists()


def test_customization_is_one_per_share():
    share = make_share()
    ShareCustomization.objects.create(share=share)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareCustomization.objects.create(share=share)


def test_json_defaults_are_valid_objects():
    share = make_share()
    custom = ShareCustomization.objects.create(share=share)
    camera = make_camera()

    custom.refresh_from_db()
    camera.refresh_from_db()
    assert custom.theme_config["primary_color"] == "#007bff"
    assert custom.display_options["layout"] == "grid"
    assert camera.day_overlay_style["font_size"] == 24
    assert camera.metadata == {}


def test_share_tokens_are_random_uuids():
    tokens = {make_share().share_token for _ in range(5)}
    assert len(tokens) == 5
    assert all(token.version == 4 for token in tokens)


def test_not_in_any_batch_is_an_anti_join():
    camera = make_camera()
    kept, loose = make_image(camera), make_image(camera)
    make_batch(camera, [kept])

    assert list(Image.objects.not_in_any_batch()) == [loose]
