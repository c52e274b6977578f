"""Every model has a working admin page, and a camera's URL hash never appears on one."""

from __future__ import annotations

import pytest

from tests.factories import make_batch, make_camera, make_image, make_share

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/cameras/camera/",
    "/admin/captures/image/",
    "/admin/captures/captureattempt/",
    "/admin/batches/timelapsebatch/",
    "/admin/batches/timelapseimage/",
    "/admin/sharing/share/",
]


@pytest.fixture
def populated():
    camera = make_camera(name="Front gate", url_hash="ab" * 32, encryption_key_ref="env:FRONT_GATE_URL")
    image = make_image(camera)
    batch = make_batch(camera, [image])
    share = make_share([batch], title="Gate progress")
    return camera, image, batch, share


@pytest.mark.parametrize("page", PAGES)
def test_changelists_load_and_hide_the_url_hash(admin_client, populated, page):
    response = admin_client.get(page)

    assert response.status_code == 200
    assert ("ab" * 32).encode() not in response.content
    assert b"FRONT_GATE_URL" not in response.content


def test_change_pages_load_and_show_only_whether_a_url_is_set(admin_client, populated):
    camera, image, batch, share = populated
    for url in [
        f"/admin/cameras/camera/{camera.pk}/change/",
        f"/admin/captures/image/{image.pk}/change/",
        f"/admin/batches/timelapsebatch/{batch.pk}/change/",
        f"/admin/sharing/share/{share.pk}/change/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert ("ab" * 32).encode() not in response.content
        assert b"FRONT_GATE_URL" not in response.content
    camera_page = admin_client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    assert "URL set" in camera_page
