"""The database computes what the seed says it computes, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cameras.models import Camera
from captures.models import Image
from tests.conftest import VENDOR
from tests.factories import make_camera, make_image, make_share

pytestmark = pytest.mark.django_db


def raw_insert_image(camera: Camera, captured_at: datetime) -> int:
    """Insert through SQL, bypassing the ORM, so only the trigger can fill day_number."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO images (camera_id, filename, file_path, file_size_bytes, format, "
            "captured_at, processing_metadata, created_at) VALUES (%s, 'a.jpg', 'a.jpg', 1, 'JPEG', %s, '{}', %s)",
            [camera.pk, captured_at, timezone.now()],
        )
        cursor.execute("SELECT MAX(id) FROM images")
        return cursor.fetchone()[0]


def test_trigger_numbers_a_raw_insert_from_the_start_date():
    camera = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 1, 1), timezone="UTC")

    image_id = raw_insert_image(camera, datetime(2026, 1, 10, 12, 0, tzinfo=UTC))

    assert Image.objects.get(pk=image_id).day_number == 10


def test_trigger_leaves_day_number_empty_when_the_counter_is_off():
    camera = make_camera(day_counter_enabled=False, day_counter_start_date=date(2026, 1, 1))

    image_id = raw_insert_image(camera, datetime(2026, 1, 10, 12, 0, tzinfo=UTC))

    assert Image.objects.get(pk=image_id).day_number is None


def test_captures_before_the_start_date_get_no_day_number():
    camera = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 1, 10), timezone="UTC")

    orm_image = make_image(camera, datetime(2026, 1, 5, tzinfo=UTC))
    raw_id = raw_insert_image(camera, datetime(2026, 1, 5, tzinfo=UTC))

    assert orm_image.day_number is None
    assert Image.objects.get(pk=raw_id).day_number is None


def test_orm_insert_counts_days_in_the_camera_time_zone():
    """GIVEN a camera in Sydney whose counter starts 2026-01-01
    WHEN it captures at 07:00 Sydney time on 2026-01-10 (20:00 UTC on the 9th)
    THEN the image is day 10, not day 9."""
    camera = make_camera(
        day_counter_enabled=True, day_counter_start_date=date(2026, 1, 1), timezone="Australia/Sydney"
    )
    captured_at = datetime(2026, 1, 9, 20, 0, tzinfo=UTC)

    image = make_image(camera, captured_at)

    image.refresh_from_db()
    assert image.day_number == 10


@pytest.mark.postgres_only
def test_postgres_trigger_itself_uses_the_camera_time_zone():
    camera = make_camera(
        day_counter_enabled=True, day_counter_start_date=date(2026, 1, 1), timezone="Australia/Sydney"
    )

    image_id = raw_insert_image(camera, datetime(2026, 1, 9, 20, 0, tzinfo=UTC))

    assert Image.objects.get(pk=image_id).day_number == 10


def test_bulk_create_gets_day_numbers():
    camera = make_camera(
        day_counter_enabled=True, day_counter_start_date=date(2026, 3, 1), timezone="America/New_York"
    )
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    Image.objects.bulk_create(
        Image(
            camera=camera,
            filename=f"{i}.jpg",
            file_path=f"{i}.jpg",
            file_size_bytes=1,
            format="JPEG",
            captured_at=start + timedelta(days=i),
        )
        for i in range(5)
    )

    numbers = list(
        Image.objects.filter(camera=camera).order_by("captured_at").values_list("day_number", flat=True)
    )
    assert numbers == [1, 2, 3, 4, 5]


def test_moving_a_capture_time_renumbers_the_image():
    camera = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 1, 1), timezone="UTC")
    image = make_image(camera, datetime(2026, 1, 2, tzinfo=UTC))

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE images SET captured_at = %s WHERE id = %s", [datetime(2026, 1, 20, tzinfo=UTC), image.pk]
        )

    image.refresh_from_db()
    assert image.day_number == 20


def test_updating_a_camera_bumps_updated_at():
    camera = make_camera()
    old = datetime(2020, 1, 1, tzinfo=UTC)
    Camera.objects.filter(pk=camera.pk).update(updated_at=old)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE cameras SET enabled = %s WHERE id = %s", [False, camera.pk])

    camera.refresh_from_db()
    assert camera.updated_at > old + timedelta(days=365)


@pytest.mark.postgres_only
def test_share_search_vector_matches_a_word_of_its_description():
    from django.contrib.postgres.search import SearchQuery

    from sharing.models import Share

    share = make_share(title="Office build", description="Pouring the concrete foundations")
    make_share(title="Garden", description="Tomatoes growing")

    found = Share.objects.filter(search_vector=SearchQuery("foundation", config="english"))

    assert list(found) == [share]


def test_share_search_in_the_admin_finds_a_word_of_the_description(admin_client):
    make_share(title="Office build", description="Pouring the concrete foundations")
    make_share(title="Garden", description="Tomatoes growing")

    response = admin_client.get("/admin/sharing/share/", {"q": "foundations"})

    assert b"Office build" in response.content
    assert b"Garden" not in response.content


def test_vendor_under_test_is_reported():
    assert connection.vendor == VENDOR
