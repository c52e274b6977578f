"""The camera and image admin: write-only URL fields, test connection, capture now, thumbnails."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cameras import secrets
from cameras.models import Camera
from captures.models import CaptureAttempt, Image

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-long-enough-123")
    client.force_login(user)
    return client


def camera_form(**overrides):
    data = {
        "name": "yard",
        "enabled": "on",
        "camera_url": "",
        "username": "",
        "password": "",
        "api_key": "",
        "capture_interval_seconds": "60",
        "capture_weekdays": ["1", "2", "3", "4", "5", "6", "7"],
        "sunrise_offset_minutes": "0",
        "sunset_offset_minutes": "0",
        "rotation": "none",
        "timezone": "UTC",
        "day_overlay_position": "top-right",
        "day_overlay_style-font_size": "24",
        "day_overlay_style-font_color": "#ffffff",
        "day_overlay_style-background_color": "#000000",
        "day_overlay_style-background_opacity": "0.7",
        "continuous_mode": "off",
        "source_mode": "auto",
        # The render-finishing inline (batches.RenderSettings), left empty.
        "render_settings-TOTAL_FORMS": "0",
        "render_settings-INITIAL_FORMS": "0",
        # The period-videos inline (sharing.PeriodVideo), left empty.
        "period_videos-TOTAL_FORMS": "0",
        "period_videos-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_add_camera_in_admin_stores_url_in_the_secrets_file(admin_client, camera_server):
    response = admin_client.post(
        reverse("admin:cameras_camera_add"), camera_form(camera_url=camera_server.url(), password="pw-x")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    camera = Camera.objects.get(name="yard")
    assert camera.url_hash == secrets.url_hash(camera_server.url())
    secret = secrets.load_secret(camera.encryption_key_ref)
    assert secret.url == camera_server.url() and secret.password == "pw-x"
    page = admin_client.get(reverse("admin:cameras_camera_change", args=[camera.pk])).content.decode()
    assert camera_server.url() not in page and "pw-x" not in page and camera.url_hash not in page
    assert "Test connection" in page and "Capture now" in page


def test_duplicate_url_in_admin_is_a_form_error(admin_client, camera_server, add):
    add("first", camera_server.url())
    response = admin_client.post(
        reverse("admin:cameras_camera_add"), camera_form(camera_url=camera_server.url())
    )
    assert response.status_code == 200
    assert "already used by camera" in response.content.decode()
    assert Camera.objects.count() == 1


def test_editing_without_a_url_keeps_the_secret(admin_client, camera_server, add):
    camera = add("keep", camera_server.url())
    ref = camera.encryption_key_ref
    response = admin_client.post(
        reverse("admin:cameras_camera_change", args=[camera.pk]),
        camera_form(name="keep", capture_interval_seconds="30"),
    )
    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.encryption_key_ref == ref and camera.capture_interval_seconds == 30
    assert secrets.load_secret(ref).url == camera_server.url()


def test_test_connection_shows_the_frame_without_storing(admin_client, camera_server, add):
    camera = add("tc", camera_server.url())
    response = admin_client.post(reverse("admin:cameras_camera_test_connection", args=[camera.pk]))
    page = response.content.decode()
    assert "320 x 240 JPEG" in page and "data:image/jpeg;base64," in page
    assert not Image.objects.exists() and not CaptureAttempt.objects.exists()
    bad = add("tc-bad", camera_server.url("/html"))
    page = admin_client.post(reverse("admin:cameras_camera_test_connection", args=[bad.pk])).content.decode()
    assert "web page (HTML)" in page and camera_server.url("/html") not in page


def test_capture_now_button(admin_client, camera_server, add):
    camera = add("cn", camera_server.url())
    response = admin_client.post(reverse("admin:cameras_camera_capture_now", args=[camera.pk]), follow=True)
    assert "Captured image" in response.content.decode()
    assert Image.objects.filter(camera=camera).count() == 1
    admin_client.get(reverse("admin:cameras_camera_capture_now", args=[camera.pk]))
    assert Image.objects.filter(camera=camera).count() == 1  # GET changes nothing


def test_image_list_thumbnails_filters_and_preview(admin_client, camera_server, add):
    from captures import ingest

    camera = add("imgs", camera_server.url())
    image = ingest.capture(camera).image
    listing = admin_client.get(reverse("admin:captures_image_changelist") + "?quality=good").content.decode()
    thumb_url = reverse("ops:thumbnail", args=[image.pk])
    assert thumb_url in listing
    thumb = admin_client.get(thumb_url)
    assert thumb["Content-Type"] == "image/jpeg" and b"".join(thumb.streaming_content)[:3] == b"\xff\xd8\xff"
    poor = admin_client.get(reverse("admin:captures_image_changelist") + "?quality=poor").content.decode()
    assert thumb_url not in poor
    change = admin_client.get(reverse("admin:captures_image_change", args=[image.pk])).content.decode()
    assert reverse("admin:captures_image_file", args=[image.pk]) in change
    file = admin_client.get(reverse("admin:captures_image_file", args=[image.pk]))
    assert b"".join(file.streaming_content)[:3] == b"\xff\xd8\xff"
