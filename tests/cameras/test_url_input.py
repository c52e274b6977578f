"""A malformed camera URL is a clear form or command error that never echoes the URL or password."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cameras.models import Camera
from tests.captures.test_admin import admin_client, camera_form  # noqa: F401

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-canary"
BAD_URLS = {
    "unclosed IPv6 bracket": f"http://admin:{PASSWORD}@[::1/x",
    "port not a number": f"http://admin:{PASSWORD}@cam.lan:80a/snap.jpg",
    "port out of range": f"http://admin:{PASSWORD}@cam.lan:99999/snap.jpg",
    "newline": f"rtsp://admin:{PASSWORD}@cam.lan:7447/alias\nfile '/etc/passwd'",
    "NUL": f"http://admin:{PASSWORD}@cam.lan/snap\x00.jpg",
    "tab": f"http://admin:{PASSWORD}@cam.lan/\tsnap.jpg",
    "space": f"http://admin:{PASSWORD}@cam.lan/snap shot.jpg",
    "DEL": f"http://admin:{PASSWORD}@cam.lan/snap\x7f.jpg",
    "right-to-left override": f"http://admin:{PASSWORD}@cam.lan/\u202egpj.pans",
}


# Django's form field itself refuses NUL; every other case gets one of ours.
MESSAGES = ("not a valid URL", "a space or a control character", "Null characters are not allowed")


@pytest.mark.parametrize("url", BAD_URLS.values(), ids=BAD_URLS.keys())
def test_a_malformed_url_in_the_admin_is_a_form_error(admin_client, url):  # noqa: F811
    response = admin_client.post(reverse("admin:cameras_camera_add"), camera_form(camera_url=url))

    page = response.content.decode()
    assert response.status_code == 200
    assert any(message in page for message in MESSAGES)
    assert PASSWORD not in page and "cam.lan" not in page
    assert not Camera.objects.exists()


@pytest.mark.parametrize("url", BAD_URLS.values(), ids=BAD_URLS.keys())
def test_a_malformed_url_in_addcamera_is_a_command_error(url, data_dir, settings):
    settings.TIMELAPSER_SECRETS_KEYS = ["N0ZDcO2ccRbVNP6DcJv7jrB9Ig0DsPGvYWX2g8xHTwk="]

    with pytest.raises(CommandError) as failure:
        call_command("addcamera", "yard", url)

    message = str(failure.value)
    assert "not a valid URL" in message or "a space or a control character" in message
    assert PASSWORD not in message and "cam.lan" not in message
    assert not Camera.objects.exists()


def test_changing_a_url_to_a_malformed_one_in_the_admin_keeps_the_old_one(admin_client, add, camera_server):  # noqa: F811
    camera = add("yard", camera_server.url())
    before = camera.encryption_key_ref

    response = admin_client.post(
        reverse("admin:cameras_camera_change", args=[camera.pk]),
        camera_form(camera_url=BAD_URLS["unclosed IPv6 bracket"]),
    )

    assert response.status_code == 200 and "not a valid URL" in response.content.decode()
    camera.refresh_from_db()
    assert camera.encryption_key_ref == before
