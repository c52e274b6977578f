"""The camera page: no JSON to type, the schedule in one sentence, the URL masked, credentials clearable."""

from __future__ import annotations

import re
from datetime import time

import pytest
from django.urls import reverse

from cameras import secrets
from cameras.models import Camera
from cameras.schedule import describe_schedule
from cameras.secrets import masked_url

URL = "http://cam.example/snap.jpeg?token=tok-SECRET-1&size=full"


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-long-enough-123")
    client.force_login(user)
    return client


def form_data(**overrides):
    data = {
        "name": "crane",
        "enabled": "on",
        "camera_url": "",
        "username": "admin",
        "password": "",
        "api_key": "",
        "capture_interval_seconds": "300",
        "capture_weekdays": ["1", "2", "3", "4", "5"],
        "window_start": "07:00",
        "window_end": "18:00",
        "sunrise_offset_minutes": "0",
        "sunset_offset_minutes": "0",
        "rotation": "none",
        "timezone": "UTC",
        "day_overlay_position": "bottom-left",
        "day_overlay_style-font_size": "30",
        "day_overlay_style-font_color": "#ffcc00",
        "day_overlay_style-background_color": "#112233",
        "day_overlay_style-background_opacity": "0.45",
        "day_overlay_style-font_family": "Arial",
        "continuous_mode": "off",
        "source_mode": "auto",
        "thinning_tiers-0-after_days": "180",
        "thinning_tiers-0-keep_one_per": "day",
        "thinning_tiers-1-after_days": "30",
        "thinning_tiers-1-keep_one_per": "hour",
        "thinning_tiers-2-after_days": "",
        "thinning_tiers-2-keep_one_per": "",
        "metadata-0-key": "site",
        "metadata-0-value": "North tower",
        "metadata-1-key": "",
        "metadata-1-value": "",
        # The render-finishing inline (batches.RenderSettings), left empty.
        "render_settings-TOTAL_FORMS": "0",
        "render_settings-INITIAL_FORMS": "0",
        # The period-videos inline (sharing.PeriodVideo), left empty.
        "period_videos-TOTAL_FORMS": "0",
        "period_videos-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def camera_with(**fields) -> Camera:
    defaults = {"capture_interval_seconds": 60, "capture_weekdays": [], "enabled": True}
    return Camera(name="c", url_hash="x", **{**defaults, **fields})


# --- The schedule sentence -------------------------------------------------------------


def test_schedule_sentence_names_interval_weekday_range_and_window():
    camera = camera_with(
        capture_interval_seconds=300,
        capture_weekdays=[1, 2, 3, 4, 5],
        window_start=time(7),
        window_end=time(18),
    )
    assert describe_schedule(camera) == "Every 5 minutes, Mon\u2013Fri, 07:00\u201318:00"


def test_schedule_sentence_for_daylight_with_offsets():
    camera = camera_with(
        daylight_only=True, latitude=51.5, longitude=0.0, sunrise_offset_minutes=30, sunset_offset_minutes=-15
    )
    assert describe_schedule(camera) == "Every minute from sunrise+30 min to sunset-15 min"


def test_schedule_sentence_lists_scattered_days_and_odd_intervals():
    camera = camera_with(capture_interval_seconds=90, capture_weekdays=[1, 3, 6])
    assert describe_schedule(camera) == "Every 90 seconds, Mon, Wed, Sat"
    assert describe_schedule(camera_with(capture_interval_seconds=7200)) == "Every 2 hours"


def test_schedule_sentence_warns_when_daylight_has_no_place_and_when_paused():
    camera = camera_with(daylight_only=True, enabled=False)
    sentence = describe_schedule(camera)
    assert sentence.startswith("Paused (camera disabled)")
    assert "needs latitude and longitude" in sentence


# --- The masked URL --------------------------------------------------------------------


def test_masked_url_shows_scheme_and_user_and_hides_everything_that_reaches_the_camera():
    assert masked_url("http://cam/snap.jpeg", "admin", "pw") == "http://admin:••••@••••/••••"
    assert masked_url("http://admin:pw@cam/snap.jpeg") == "http://admin:••••@••••/••••"
    assert masked_url(URL) == "http://••••/••••?••••"
    assert masked_url("rtsps://nvr:7441/alias-token", "viewer") == "rtsps://viewer@••••/••••"
    assert masked_url("http://cam:8080/") == "http://••••/"


# --- The form in the admin -------------------------------------------------------------


@pytest.fixture
def camera(add):
    return add("crane", URL, username="admin", password="pw-SECRET-2", api_key="key-SECRET-3")


def change_page(admin_client, camera) -> str:
    return admin_client.get(reverse("admin:cameras_camera_change", args=[camera.pk])).content.decode()


def test_camera_page_has_no_raw_json_input(admin_client, camera):
    page = change_page(admin_client, camera)
    assert "<textarea" not in page
    assert len(re.findall(r'type="checkbox" name="capture_weekdays"', page)) == 7
    for name in ("thinning_tiers-0-after_days", "metadata-0-key", "day_overlay_style-font_size"):
        assert f'name="{name}"' in page
    for name in ("capture_weekdays", "thinning_tiers", "metadata", "day_overlay_style"):
        assert f'type="text" name="{name}"' not in page
    assert 'type="range" name="day_overlay_style-background_opacity"' in page
    assert 'type="color" name="day_overlay_style-font_color"' in page
    assert "cameras/overlay_editor.js" in page
    assert "<script>" not in page  # CSP: only external scripts


def test_camera_page_masks_the_url_and_says_which_secrets_are_set(admin_client, camera):
    page = change_page(admin_client, camera)
    assert "http://admin:••••@••••/••••?••••" in page
    assert "password set" in page and "API key set" in page
    assert 'value="admin"' in page  # the username is visible and editable
    for secret in (
        "pw-SECRET-2",
        "key-SECRET-3",
        "tok-SECRET-1",
        "cam.example",
        camera.url_hash,
    ):
        assert secret not in page


def test_saving_the_rows_and_checkboxes_stores_the_json(admin_client, camera):
    response = admin_client.post(reverse("admin:cameras_camera_change", args=[camera.pk]), form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    camera.refresh_from_db()
    assert camera.capture_weekdays == [1, 2, 3, 4, 5]
    assert camera.thinning_tiers == [
        {"after_days": 30, "keep_one_per": "hour"},
        {"after_days": 180, "keep_one_per": "day"},
    ]
    assert camera.metadata == {"site": "North tower"}
    assert camera.day_overlay_position == "bottom-left"
    assert camera.day_overlay_style == {
        "font_size": 30,
        "font_color": "#ffcc00",
        "background_color": "#112233",
        "background_opacity": 0.45,
        "font_family": "Arial",
    }
    page = change_page(admin_client, camera)
    assert "Every 5 minutes, Mon\u2013Fri, 07:00\u201318:00" in page
    # The secret survives an edit that typed none.
    assert secrets.load_secret(camera.encryption_key_ref).password == "pw-SECRET-2"


def test_all_seven_days_are_stored_as_every_day_and_none_is_refused(admin_client, camera):
    url = reverse("admin:cameras_camera_change", args=[camera.pk])
    admin_client.post(url, form_data(capture_weekdays=[str(d) for d in range(1, 8)]))
    camera.refresh_from_db()
    assert camera.capture_weekdays == []
    data = form_data()
    del data["capture_weekdays"]
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Tick at least one day" in field_block(response.content.decode(), "capture_weekdays")


def field_block(page: str, field: str) -> str:
    """The admin's row for one field: its errors are printed inside it."""
    start = page.index(f"field-{field}")
    end = page.find('class="form-row', start + 1)
    return page[start : end if end != -1 else None]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"thinning_tiers-0-after_days": "soon"}, "thinning_tiers", "Row 1: after how many days?"),
        ({"thinning_tiers-0-keep_one_per": ""}, "thinning_tiers", "Row 1: choose what to keep"),
        ({"thinning_tiers-1-after_days": "180"}, "thinning_tiers", "180"),
        ({"metadata-0-key": ""}, "metadata", "give the value &#x27;North tower&#x27; a name"),
        ({"day_overlay_style-font_color": "yellow"}, "day_overlay_style", "Text colour is a colour"),
        ({"day_overlay_style-background_opacity": "2"}, "day_overlay_style", "from 0 (clear) to 1"),
        ({"window_end": ""}, "window_start", "Give both times, or neither."),
        ({"daylight_only": "on"}, "latitude", "needs the camera&#x27;s latitude and longitude"),
    ],
)
def test_invalid_input_is_explained_next_to_its_field_and_nothing_is_lost(
    admin_client, camera, overrides, field, message
):
    before = Camera.objects.values().get(pk=camera.pk)
    response = admin_client.post(
        reverse("admin:cameras_camera_change", args=[camera.pk]), form_data(**overrides)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in field_block(page, field), field_block(page, field)[:1500]
    assert Camera.objects.values().get(pk=camera.pk) == before
    # What was typed comes back in the form, so nothing has to be typed again.
    assert 'value="North tower"' in page or overrides.get("metadata-0-key") is not None


def test_password_and_api_key_can_be_removed(admin_client, camera):
    url = reverse("admin:cameras_camera_change", args=[camera.pk])
    response = admin_client.post(url, form_data(clear_password="on", clear_api_key="on"))
    assert response.status_code == 302, response.content.decode()[:3000]
    secret = secrets.load_secret(camera.encryption_key_ref)
    assert (secret.username, secret.password, secret.api_key) == ("admin", "", "")
    page = change_page(admin_client, camera)
    assert "password not set" in page and "API key not set" in page
    assert "http://admin@••••/••••?••••" in page


def test_typing_and_removing_the_same_secret_is_refused(admin_client, camera):
    url = reverse("admin:cameras_camera_change", args=[camera.pk])
    response = admin_client.post(url, form_data(password="new-pw", clear_password="on"))
    assert response.status_code == 200
    assert "Either type a new password or remove it" in response.content.decode()
    assert secrets.load_secret(camera.encryption_key_ref).password == "pw-SECRET-2"


def test_emptying_the_username_removes_it(admin_client, camera):
    url = reverse("admin:cameras_camera_change", args=[camera.pk])
    assert admin_client.post(url, form_data(username="")).status_code == 302
    assert secrets.load_secret(camera.encryption_key_ref).username == ""


def test_a_view_only_operator_sees_the_schedule_but_no_connection_or_inputs(
    client, django_user_model, camera
):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw-long-enough-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_camera"))
    client.force_login(user)
    response = client.get(reverse("admin:cameras_camera_change", args=[camera.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Every minute" in page
    assert 'name="day_overlay_style-font_size"' not in page and "Remove the stored password" not in page
    for secret in ("pw-SECRET-2", "key-SECRET-3", "tok-SECRET-1"):
        assert secret not in page
