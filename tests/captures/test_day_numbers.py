"""A camera's existing images follow its day counter: new start date, time zone or on/off renumbers them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from cameras.models import Camera, day_number_for
from captures.daynumbers import recompute_day_numbers
from captures.models import Image
from tests.captures.test_admin import admin_client, camera_form  # noqa: F401
from tests.factories import make_camera, make_image

pytestmark = pytest.mark.django_db


def numbers(camera: Camera) -> list[int | None]:
    return list(
        Image.objects.filter(camera=camera).order_by("captured_at").values_list("day_number", flat=True)
    )


def test_changing_the_start_date_renumbers_the_stored_images():
    camera = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 3, 1), timezone="UTC")
    for day in range(5):
        make_image(camera, datetime(2026, 3, 1, 12, tzinfo=UTC) + timedelta(days=day))
    assert numbers(camera) == [1, 2, 3, 4, 5]

    camera.day_counter_start_date = date(2026, 3, 3)
    camera.save()

    # Before the new start there is no day number (no "Day 0" or "Day -1").
    assert numbers(camera) == [None, None, 1, 2, 3]


def test_changing_the_time_zone_renumbers_by_the_new_local_days():
    camera = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 1, 1), timezone="UTC")
    # 23:30 UTC on 1 January is already 2 January in Sydney (UTC+11).
    make_image(camera, datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    make_image(camera, datetime(2026, 1, 2, 14, 0, tzinfo=UTC))  # 01:00 on 3 January there
    assert numbers(camera) == [1, 2]

    camera.timezone = "Australia/Sydney"
    camera.save(update_fields=["timezone"])

    assert numbers(camera) == [2, 3]


def test_renumbering_agrees_with_the_insert_rule_across_a_dst_change():
    """GIVEN images every 50 minutes over New York's spring-forward night
    WHEN the camera moves from UTC to America/New_York
    THEN every image carries the number a fresh insert would get (day_number_for)."""
    camera = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 3, 6), timezone="UTC")
    start = datetime(2026, 3, 6, 0, 10, tzinfo=UTC)
    times = [start + timedelta(minutes=50 * i) for i in range(200)]
    for at in times:
        make_image(camera, at)

    camera.timezone = "America/New_York"
    camera.save()

    expected = [day_number_for(date(2026, 3, 6), at, "America/New_York") for at in times]
    assert numbers(camera) == expected
    assert expected[0] is None and expected[-1] == 7  # the first hours are still 5 March there


def test_switching_the_counter_off_and_on_clears_and_restores_the_numbers():
    camera = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 5, 1), timezone="UTC")
    for day in range(3):
        make_image(camera, datetime(2026, 5, 1, 8, tzinfo=UTC) + timedelta(days=day))

    camera.day_counter_enabled = False
    camera.save()
    assert numbers(camera) == [None, None, None]

    camera.day_counter_enabled = True
    camera.save()
    assert numbers(camera) == [1, 2, 3]


def test_other_cameras_and_unrelated_saves_keep_their_numbers():
    counted = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 5, 1), timezone="UTC")
    other = make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 5, 1), timezone="UTC")
    make_image(counted, datetime(2026, 5, 2, 8, tzinfo=UTC))
    make_image(other, datetime(2026, 5, 2, 8, tzinfo=UTC))

    counted.day_counter_start_date = date(2026, 4, 1)
    counted.save()
    other.capture_interval_seconds = 30
    other.save()

    assert numbers(counted) == [32] and numbers(other) == [2]
    # Nothing left to change: a second run writes no row.
    assert recompute_day_numbers(counted.pk) == 0


def test_admin_change_of_the_start_date_renumbers(admin_client, camera_server, add):  # noqa: F811
    camera = add(
        "site", camera_server.url(), day_counter_enabled=True, day_counter_start_date=date(2026, 6, 1)
    )
    make_image(camera, datetime(2026, 6, 10, 12, tzinfo=UTC))
    assert numbers(camera) == [10]

    response = admin_client.post(
        reverse("admin:cameras_camera_change", args=[camera.pk]),
        camera_form(name="site", day_counter_enabled="on", day_counter_start_date="2026-06-08"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert numbers(camera) == [3]
