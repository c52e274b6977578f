"""Test connection on a camera that answers with a useless picture: dark, blank or frozen is said."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image as PILImage

from captures.fakecamera import FakeCamera
from captures.ingest import capture


def jpeg(colour) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (320, 240), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def one_frame_camera():
    # One frame, served every time: what a stuck stream looks like.
    with FakeCamera(frames=1, drip_delay=0.01) as server:
        yield server


def test_connection(admin_client, camera) -> str:
    return admin_client.post(
        reverse("admin:cameras_camera_test_connection", args=[camera.pk])
    ).content.decode()


test_connection.__test__ = False


def test_a_good_picture_says_so(admin_client, add, one_frame_camera):
    page = test_connection(admin_client, add("good", one_frame_camera.url()))
    assert "The picture looks fine" in page and "tl-test-warnings" not in page


def test_a_dark_or_blank_picture_warns(admin_client, add, one_frame_camera):
    camera = add("dark", one_frame_camera.url())
    one_frame_camera.frames[0] = jpeg((5, 5, 5))
    page = test_connection(admin_client, camera)
    assert "very dark" in page and "blank" in page and "It connects, but check the camera" in page
    one_frame_camera.frames[0] = jpeg((128, 128, 128))
    page = test_connection(admin_client, camera)
    assert "blank" in page and "very dark" not in page


def test_the_same_picture_as_the_last_stored_one_is_frozen(admin_client, add, one_frame_camera):
    camera = add("stuck", one_frame_camera.url())
    assert "frozen" not in test_connection(admin_client, camera)
    assert capture(camera).ok
    page = test_connection(admin_client, camera)
    assert "the stream may be frozen" in page
