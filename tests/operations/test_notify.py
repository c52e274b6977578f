"""Notifications reach a real HTTP endpoint through Apprise, once per event, without secrets."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test import TestCase
from django.utils import timezone

from batches.models import TimelapseBatch
from cameras.models import Camera
from captures.models import CaptureAttempt
from captures.signals import capture_failed, image_captured
from operations import notify
from tests.factories import make_batch, make_camera, make_image, make_share
from timelapser.celery import app

pytestmark = pytest.mark.django_db

URL_HASH = "cd" * 32

# Tests run inside a transaction that never commits; this runs on_commit callbacks
# as the pipeline's commit would.
committed = TestCase.captureOnCommitCallbacks


def fail_capture(camera: Camera) -> None:
    """What the capture pipeline does on a failure: count it, record it, tell listeners."""
    Camera.objects.filter(pk=camera.pk).update(connection_failures=F("connection_failures") + 1)
    camera.refresh_from_db()
    attempt = CaptureAttempt.objects.create(
        camera=camera, status=CaptureAttempt.Status.TIMEOUT, error_message="timed out"
    )
    with committed(execute=True):
        capture_failed.send(sender=Camera, camera=camera, attempt=attempt)


def succeed_capture(camera: Camera) -> None:
    """What the capture pipeline does on a success: reset the count, store, tell listeners."""
    Camera.objects.filter(pk=camera.pk).update(connection_failures=0)
    camera.refresh_from_db()
    image = make_image(camera)
    with committed(execute=True):
        image_captured.send(sender=Camera, camera=camera, image=image)


@pytest.fixture
def camera():
    return make_camera(name="North crane", url_hash=URL_HASH, encryption_key_ref="env:NORTH_CRANE_URL")


def test_five_failures_send_one_down_message_and_recovery_one_more(webhook, camera):
    for _ in range(5):
        fail_capture(camera)

    assert webhook.titles() == ["Camera down: North crane"]
    assert "5 captures in a row" not in webhook.messages[0]["message"]  # sent at the 3rd, not the 5th
    assert "3 captures in a row" in webhook.messages[0]["message"]
    assert webhook.messages[0]["type"] == "failure"

    succeed_capture(camera)
    succeed_capture(camera)

    assert webhook.titles() == ["Camera down: North crane", "Camera back up: North crane"]

    fail_capture(camera)
    fail_capture(camera)

    assert len(webhook.messages) == 2, "failures below the threshold after recovery say nothing"
    camera.refresh_from_db()
    assert camera.down_notified_at is None


def test_failures_below_the_threshold_send_nothing(webhook, camera, settings):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 4
    for _ in range(3):
        fail_capture(camera)
    succeed_capture(camera)

    assert webhook.messages == []


def test_messages_never_carry_the_camera_url_hash_or_secret_reference(webhook, camera):
    for _ in range(3):
        fail_capture(camera)
    succeed_capture(camera)
    batch = make_batch(camera, status=TimelapseBatch.Status.FAILED, error_message="ffmpeg exited 1")
    notify.notify_render_failed(batch)

    assert len(webhook.messages) == 3
    for message in webhook.messages:
        text = message["title"] + message["message"]
        assert URL_HASH not in text
        assert "NORTH_CRANE_URL" not in text
        assert "timed out" not in text  # capture errors may echo the camera; they stay out


def test_render_failed_says_which_batch_and_why(webhook, camera):
    batch = make_batch(camera, status=TimelapseBatch.Status.FAILED, error_message="no frames in range")

    assert notify.notify_render_failed(batch) is True

    [message] = webhook.messages
    assert message["title"] == f"Render failed: North crane batch #{batch.pk}"
    assert "no frames in range" in message["message"]


def test_disk_low_is_sent_once_per_quiet_period(webhook):
    assert notify.notify_disk_low(4.25) is True
    assert notify.notify_disk_low(3.9) is False

    assert webhook.titles() == ["Disk space low"]
    assert "4.2% of the Timelapser data disk is free" in webhook.messages[0]["message"]


def test_expiring_shares_task_lists_only_active_shares_expiring_within_three_days(webhook, camera):
    now = timezone.now()
    make_share(title="Soon", expires_at=now + timedelta(days=2))
    make_share(title="Later", expires_at=now + timedelta(days=5))
    make_share(title="Gone", expires_at=now - timedelta(hours=1))
    make_share(title="Switched off", expires_at=now + timedelta(days=1), is_active=False)
    make_share(title="Forever")

    # Through the real Celery task machinery (eager), by the name beat uses.
    result = app.tasks["operations.tasks.warn_expiring_shares"].apply()

    assert result.get() == 1
    [message] = webhook.messages
    assert message["title"] == "1 share expires within 3 days"
    assert "Soon" in message["message"]
    for other in ("Later", "Gone", "Switched off", "Forever"):
        assert other not in message["message"]


def test_expiring_shares_task_is_silent_when_nothing_expires(webhook):
    make_share(title="Later", expires_at=timezone.now() + timedelta(days=10))

    assert notify.warn_expiring_shares() == 0
    assert webhook.messages == []


def test_no_notify_urls_means_nothing_is_sent_and_nothing_breaks(settings, camera):
    settings.TIMELAPSER_NOTIFY_URLS = []
    for _ in range(3):
        fail_capture(camera)

    camera.refresh_from_db()
    assert camera.down_notified_at is not None  # state still tracked: no storm once URLs are set


def test_an_unreachable_endpoint_does_not_break_the_capture_pipeline(settings, camera, caplog):
    settings.TIMELAPSER_NOTIFY_URLS = ["json://127.0.0.1:9/hook"]  # discard port: refused

    for _ in range(3):
        fail_capture(camera)

    camera.refresh_from_db()
    assert camera.connection_failures == 3
    assert "json://" not in caplog.text  # Apprise URLs carry tokens; they stay out of logs


def test_a_rolled_back_failure_is_not_announced(webhook, camera):
    from django.db import transaction

    Camera.objects.filter(pk=camera.pk).update(connection_failures=3)
    with committed(execute=True) as callbacks:
        try:
            with transaction.atomic():
                assert notify.camera_failed(camera) is True
                raise RuntimeError("the pipeline failed after deciding")
        except RuntimeError:
            pass

    assert callbacks == []
    assert webhook.messages == []
    camera.refresh_from_db()
    assert camera.down_notified_at is None  # rolled back too, so the next failure will say it


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_announce_the_outage_exactly_once(webhook):
    """GIVEN a camera at the threshold WHEN eight workers record failures at once THEN one message."""
    camera = make_camera(name="Busy", connection_failures=3)
    barrier = threading.Barrier(8)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(notify.camera_failed(camera))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert webhook.titles() == ["Camera down: Busy"]
