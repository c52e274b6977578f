"""Dashboard thumbnails: made from the image file with Pillow, cached on disk, staff only."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from tests.factories import make_camera, make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def image_on_disk(data_dir):
    camera = make_camera(name="Yard")
    relative = f"images/{camera.pk}/frame.jpg"
    path = data_dir / relative
    path.parent.mkdir(parents=True)
    PILImage.new("RGB", (640, 480), (200, 40, 40)).save(path, "JPEG")
    return make_image(camera, file_path=relative, file_size_bytes=path.stat().st_size)


def fetch(client, image):
    return client.get(f"/admin/thumbnails/{image.pk}.jpg")


def test_thumbnail_is_a_small_jpeg_of_the_image(admin_client, image_on_disk):
    response = fetch(admin_client, image_on_disk)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    picture = PILImage.open(io.BytesIO(b"".join(response.streaming_content)))
    assert picture.size == (320, 240)
    red, green, blue = picture.getpixel((160, 120))
    assert red > 150 and green < 100 and blue < 100


def test_thumbnail_is_cached_on_disk_and_reused(admin_client, image_on_disk, data_dir):
    fetch(admin_client, image_on_disk)
    [cached] = list((data_dir / "cache" / "thumbnails").rglob("*.jpg"))
    cached.write_bytes(cached.read_bytes())  # same bytes, newer mtime
    before = cached.stat().st_mtime_ns

    response = fetch(admin_client, image_on_disk)

    assert response.status_code == 200
    assert cached.stat().st_mtime_ns == before
    assert len(list((data_dir / "cache" / "thumbnails").rglob("*"))) == 2  # the camera folder and one file


def test_thumbnails_are_for_staff_only(client, image_on_disk):
    response = fetch(client, image_on_disk)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_missing_or_escaping_files_give_404(admin_client, data_dir):
    camera = make_camera(name="Gone")
    missing = make_image(camera, file_path="images/none/nothing.jpg")
    (data_dir.parent / "outside.jpg").write_bytes(b"not for you")
    escaping = make_image(camera, file_path="../outside.jpg")
    not_an_image = make_image(camera, file_path="notes.jpg")
    (data_dir / "notes.jpg").write_text("plain text")

    for image in (missing, escaping, not_an_image):
        assert fetch(admin_client, image).status_code == 404
