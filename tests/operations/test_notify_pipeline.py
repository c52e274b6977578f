"""End to end: the real capture pipeline against a fake HTTP camera, notifying a real webhook."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import TestCase

from cameras.models import Camera
from cameras.services import add_camera, set_camera_url
from captures.fakecamera import FakeCamera
from captures.ingest import capture

pytestmark = pytest.mark.django_db


@pytest.fixture
def camera_server(settings, data_dir):
    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    with FakeCamera(drip_delay=0.05) as server:
        yield server


def run_capture(camera: Camera) -> bool:
    # The pipeline signals after its transaction commits; run those callbacks as a real commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        outcome = capture(Camera.objects.get(pk=camera.pk))
    return outcome.ok


def test_real_captures_failing_then_recovering_send_one_message_each(webhook, camera_server):
    broken_url = camera_server.url("/401")
    camera = add_camera("Site office", broken_url)

    results = [run_capture(camera) for _ in range(5)]

    assert results == [False] * 5
    assert webhook.titles() == ["Camera down: Site office"]

    set_camera_url(Camera.objects.get(pk=camera.pk), camera_server.url("/snap.jpg"))
    assert run_capture(camera) is True
    assert run_capture(camera) is True
    assert webhook.titles() == ["Camera down: Site office", "Camera back up: Site office"]

    set_camera_url(Camera.objects.get(pk=camera.pk), broken_url)
    assert [run_capture(camera) for _ in range(2)] == [False, False]
    assert len(webhook.messages) == 2

    camera.refresh_from_db()
    everything = str(webhook.messages)
    assert str(camera_server.port) not in everything
    assert "/401" not in everything and "snap.jpg" not in everything
    assert camera.url_hash not in everything
