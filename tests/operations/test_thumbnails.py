"""Dashboard thumbnails: made from the image file with Pillow, cached on disk, staff only."""

from __future__ import annotations

import io
import os

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


def test_staff_without_the_image_view_permission_get_no_thumbnail(client, django_user_model, image_on_disk):
    clerk = django_user_model.objects.create_user("clerk", password="pw-for-tests-1", is_staff=True)
    client.force_login(clerk)
    assert fetch(client, image_on_disk).status_code == 403


def test_a_replaced_image_gets_a_fresh_thumbnail(admin_client, image_on_disk, data_dir):
    fetch(admin_client, image_on_disk)
    source = data_dir / image_on_disk.file_path
    PILImage.new("RGB", (640, 480), (40, 40, 200)).save(source, "JPEG")
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))

    picture = PILImage.open(io.BytesIO(b"".join(fetch(admin_client, image_on_disk).streaming_content)))

    red, _, blue = picture.getpixel((160, 120))
    assert blue > 150 and red < 100


def test_exif_rotation_and_png_sources_are_honoured(admin_client, data_dir):
    camera = make_camera(name="Tilted")
    rotated = data_dir / "images" / "tilted.jpg"
    rotated.parent.mkdir(parents=True)
    exif = PILImage.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    PILImage.new("RGB", (640, 480), (90, 90, 90)).save(rotated, "JPEG", exif=exif)
    png = data_dir / "images" / "frame.png"
    PILImage.new("RGBA", (400, 300), (0, 200, 0, 255)).save(png, "PNG")

    upright = fetch(admin_client, make_image(camera, file_path="images/tilted.jpg"))
    from_png = fetch(admin_client, make_image(camera, file_path="images/frame.png"))

    assert PILImage.open(io.BytesIO(b"".join(upright.streaming_content))).size == (180, 240)
    assert PILImage.open(io.BytesIO(b"".join(from_png.streaming_content))).size == (320, 240)


def test_admin_and_gallery_thumbnails_share_one_cache_folder(data_dir, image_on_disk):
    """The dashboard/image list (4:3 box) and share galleries (320 wide) cache side by side."""
    from captures.thumbnails import CARD, GALLERY, thumbnail_file

    card = thumbnail_file(image_on_disk, CARD)
    gallery = thumbnail_file(image_on_disk, GALLERY)

    folder = data_dir / "cache" / "thumbnails" / str(image_on_disk.camera_id)
    assert {card, gallery} == set(folder.iterdir())
    assert card.name.endswith("-320x240.jpg") and gallery.name.endswith("-320x1280.jpg")
    assert thumbnail_file(image_on_disk, CARD) == card  # reused, not made again


def test_cleanup_removes_thumbnails_of_deleted_images_and_keeps_the_rest(data_dir):
    from captures.thumbnails import GALLERY, thumbnail_file
    from operations.cleanup import run_cleanup

    camera = make_camera(name="Garden")
    images = []
    for n in range(2):
        relative = f"images/{camera.pk}/frame-{n}.jpg"
        path = data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        PILImage.new("RGB", (640, 480), (40, 200, 40)).save(path, "JPEG")
        images.append(make_image(camera, file_path=relative, file_size_bytes=path.stat().st_size))
    kept, gone = images
    kept_thumb = thumbnail_file(kept)
    gone_thumbs = [thumbnail_file(gone), thumbnail_file(gone, GALLERY)]
    gone.delete()

    assert run_cleanup(dry_run=True).thumbnails_removed == 2
    assert all(thumb.exists() for thumb in gone_thumbs), "a dry run removes nothing"

    assert run_cleanup().thumbnails_removed == 2
    assert kept_thumb.exists()
    assert not any(thumb.exists() for thumb in gone_thumbs)
    assert run_cleanup().thumbnails_removed == 0
