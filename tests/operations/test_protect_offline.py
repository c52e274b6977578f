"""An offline Protect camera (HTTP 503 or DISCONNECTED): "camera offline" on the attempt and the
dashboard, back-off instead of a request every slot, one notification. Against the fake console."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.test import TestCase
from django.utils import timezone

from cameras.models import Camera
from cameras.services import save_console
from captures import discovery, protect
from captures.fakecamera import self_signed_cert
from captures.fakeprotect import FakeProtectConsole
from captures.models import CaptureAttempt
from captures.tasks import capture_camera

pytestmark = pytest.mark.django_db
API_KEY = "offline-test-k3y-2468"


@pytest.fixture
def console(tmp_path, settings, data_dir):
    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    tls = self_signed_cert(tmp_path)
    with FakeProtectConsole(api_key=API_KEY, tls=tls) as server:
        pin = protect.certificate_fingerprint(server.address())
        saved, _ = save_console(server.address(), api_key=API_KEY, fingerprint=pin)
        discovery.add_cameras(saved, "all")
        yield server


def snapshot_requests(console, camera: Camera) -> int:
    return sum(1 for _, path, _ in console.log if path.endswith(f"{camera.protect_camera_id}/snapshot"))


def run_task(camera: Camera) -> str:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return capture_camera(camera.pk)


def test_a_503_is_camera_offline_on_the_attempt_without_retries(console):
    garage = Camera.objects.get(name="Garage")
    garage.source_mode = Camera.SourceMode.SNAPSHOT
    garage.save()
    assert run_task(garage) == "failed"
    attempt = CaptureAttempt.objects.get(camera=garage)
    assert attempt.error_message.startswith("Camera offline") and attempt.retry_count == 0
    assert snapshot_requests(console, garage) == 1  # a 503 is not retried within the attempt
    garage.refresh_from_db()
    assert garage.offline_since is not None


def test_a_disconnected_camera_in_stream_mode_is_offline_too(console):
    garage = Camera.objects.get(name="Garage")  # auto, no full-HD snapshot: the stream
    assert run_task(garage) == "failed"
    assert CaptureAttempt.objects.get(camera=garage).error_message.startswith("Camera offline")


def test_an_offline_camera_backs_off_then_captures_again_when_it_is_back(console):
    garage = Camera.objects.get(name="Garage")
    garage.source_mode = Camera.SourceMode.SNAPSHOT
    garage.save()
    assert run_task(garage) == "failed"
    # Slot after slot while it is offline: after each failure the wait doubles.
    outcomes = []
    for _ in range(6):
        # One interval passes, then the next slot's task runs.
        garage.refresh_from_db()
        Camera.objects.filter(pk=garage.pk).update(
            last_health_check=garage.last_health_check - timedelta(seconds=garage.capture_interval_seconds)
        )
        outcomes.append(run_task(garage))
    assert outcomes == [
        "failed",
        "offline, backing off",
        "failed",
        "offline, backing off",
        "offline, backing off",
        "offline, backing off",
    ]
    assert snapshot_requests(console, garage) == 3
    console.cameras[garage.protect_camera_id].state = "CONNECTED"
    Camera.objects.filter(pk=garage.pk).update(last_health_check=timezone.now() - timedelta(hours=1))
    assert run_task(garage) == "ok"
    garage.refresh_from_db()
    assert garage.offline_since is None and garage.connection_failures == 0


def test_offline_sends_one_notification_and_the_dashboard_says_offline(
    console, webhook, settings, admin_client
):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 3
    garage = Camera.objects.get(name="Garage")
    garage.source_mode = Camera.SourceMode.SNAPSHOT
    garage.save()
    for _ in range(8):
        run_task(garage)
        Camera.objects.filter(pk=garage.pk).update(last_health_check=timezone.now() - timedelta(days=1))
    assert webhook.titles() == ["Camera down: Garage"]
    page = admin_client.get("/admin/dashboard/").content.decode()
    assert f'class="tl-card tl-status-offline" data-camera="{garage.pk}"' in page
    assert "Camera offline" in page
    assert API_KEY not in page and API_KEY not in str(webhook.messages)
