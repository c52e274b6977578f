"""The day counter's settings: ticking it without a start date is an error, not a silent no-op."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.captures.test_admin import admin_client, camera_form  # noqa: F401
from tests.factories import make_camera

pytestmark = pytest.mark.django_db
MESSAGE = "Choose the day the project started, or untick Day counter."


def test_day_counter_without_a_start_date_is_a_validation_error():
    camera = make_camera()
    camera.day_counter_enabled = True
    with pytest.raises(ValidationError) as caught:
        camera.full_clean()
    assert caught.value.message_dict == {"day_counter_start_date": [MESSAGE]}


def test_day_counter_with_a_start_date_or_switched_off_is_valid():
    make_camera(day_counter_enabled=True, day_counter_start_date=date(2026, 1, 1)).full_clean()
    make_camera(day_counter_enabled=False).full_clean()


def test_admin_says_to_choose_a_start_date_and_saves_nothing(admin_client, camera_server, add):  # noqa: F811
    camera = add("site", camera_server.url())
    response = admin_client.post(
        reverse("admin:cameras_camera_change", args=[camera.pk]),
        camera_form(
            name="site", day_counter_enabled="on", day_counter_start_date="", capture_interval_seconds="30"
        ),
    )
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    camera.refresh_from_db()
    assert not camera.day_counter_enabled and camera.capture_interval_seconds != 30
