"""Per-camera beat entries, capture windows and the capture task."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django_celery_beat.models import PeriodicTask

from cameras.models import Camera
from cameras.schedule import capture_window_reason
from captures.models import CaptureAttempt, Image
from captures.tasks import capture_camera, slot_for

pytestmark = pytest.mark.django_db


def test_saving_a_camera_creates_updates_and_disables_its_task(add, camera_server):
    camera = add("sched", camera_server.url(), capture_interval_seconds=30)
    task = PeriodicTask.objects.get(pk=camera.periodic_task_id)
    assert task.task == "captures.tasks.capture_camera" and task.queue == "capture"
    assert task.interval.every == 30 and task.enabled and task.args == f"[{camera.pk}]"
    camera.capture_interval_seconds = 10
    camera.save()
    task.refresh_from_db()
    assert task.interval.every == 10
    camera.enabled = False
    camera.save(update_fields=["enabled"])
    task.refresh_from_db()
    assert not task.enabled
    camera.delete()
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_a_camera_without_a_url_gets_a_disabled_task():
    camera = Camera.objects.create(name="no-url", url_hash="3" * 64)
    assert camera.periodic_task is not None and not camera.periodic_task.enabled


def test_weekday_and_time_windows():
    camera = Camera(name="w", timezone="Europe/Berlin", capture_weekdays=[1, 2, 3, 4, 5])
    saturday_noon = datetime(2026, 6, 6, 10, 0, tzinfo=UTC)  # 12:00 in Berlin
    assert capture_window_reason(camera, saturday_noon) == "outside the camera's weekdays"
    camera.capture_weekdays = []
    camera.window_start, camera.window_end = time(7, 0), time(18, 0)
    assert capture_window_reason(camera, saturday_noon) is None
    assert capture_window_reason(camera, datetime(2026, 6, 6, 17, 0, tzinfo=UTC)) is not None  # 19:00
    # A window over midnight.
    camera.window_start, camera.window_end = time(22, 0), time(6, 0)
    assert capture_window_reason(camera, datetime(2026, 6, 6, 21, 30, tzinfo=UTC)) is None  # 23:30
    assert capture_window_reason(camera, saturday_noon) is not None


def test_daylight_window_uses_sunrise_and_sunset_with_offsets():
    # Berlin in June: sunrise ~04:45, sunset ~21:30 local.
    camera = Camera(name="sun", timezone="Europe/Berlin", daylight_only=True, latitude=52.52, longitude=13.40)
    assert capture_window_reason(camera, datetime(2026, 6, 6, 10, 0, tzinfo=UTC)) is None
    assert "daylight" in capture_window_reason(camera, datetime(2026, 6, 6, 0, 30, tzinfo=UTC))
    camera.sunrise_offset_minutes = 180  # start three hours after sunrise (~07:45 local)
    assert "daylight" in capture_window_reason(camera, datetime(2026, 6, 6, 4, 30, tzinfo=UTC))  # 06:30


def test_slot_rounds_beat_jitter_to_the_same_slot():
    early = datetime(2026, 1, 1, 12, 0, 9, 998000, tzinfo=UTC)
    late = datetime(2026, 1, 1, 12, 0, 10, 3000, tzinfo=UTC)
    assert slot_for(early, 10) == slot_for(late, 10) == datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)


def test_task_captures_once_per_slot_and_skips_disabled_and_out_of_window(add, camera_server):
    camera = add("tasked", camera_server.url())
    slot = "2026-01-01T12:00:00+00:00"
    assert capture_camera(camera.pk, slot) == "ok"
    assert capture_camera(camera.pk, slot) == "already done"
    assert Image.objects.filter(camera=camera).count() == 1
    camera.enabled = False
    camera.save()
    assert capture_camera(camera.pk) == "disabled"
    camera.enabled = True
    camera.capture_weekdays = [d for d in range(1, 8) if d != datetime.now(UTC).isoweekday()]
    camera.timezone = "UTC"
    camera.save()
    assert capture_camera(camera.pk) == "outside window"
    assert CaptureAttempt.objects.filter(camera=camera).count() == 1
    assert capture_camera(999999) == "gone"
