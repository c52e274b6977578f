"""The image list's search box finds pictures by their camera's name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cameras.models import Camera
from captures.models import Image

pytestmark = pytest.mark.django_db


def image(camera: Camera, name: str) -> Image:
    return Image.objects.create(
        camera=camera,
        filename=name,
        file_path=f"images/{name}",
        file_size_bytes=1,
        format="JPEG",
        captured_at=datetime(2026, 5, 1, 12, tzinfo=UTC),
    )


def test_searching_a_camera_name_lists_its_images_only(admin_client):
    crane = Camera.objects.create(name="North crane", url_hash="a" * 64)
    gate = Camera.objects.create(name="Gate", url_hash="b" * 64)
    image(crane, "0001.jpg")
    image(gate, "0002.jpg")
    page = admin_client.get("/admin/captures/image/", {"q": "crane"}).content.decode()
    assert "0001.jpg" in page and "0002.jpg" not in page
