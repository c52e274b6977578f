"""Storage awareness: usage, bytes per day, forecast, low disk and the urgent cleanup."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from captures.models import Image
from captures.retention import storage_stats
from operations import tasks
from operations.disk import disk_low, disk_status
from tests.factories import make_camera, make_image
from tests.operations.cleanup.conftest import days_ago, image_file
from timelapser.celery import app

pytestmark = pytest.mark.usefixtures("data_dir", "policy_env")


@pytest.mark.django_db
def test_storage_stats_average_the_last_week_and_forecast_the_steady_state():
    camera = make_camera(retention_days=10, thinning_tiers=[])
    idle = make_camera()
    now = timezone.now()
    for day in range(7):
        for _ in range(2):
            make_image(camera, now - timedelta(days=day, hours=1), file_size_bytes=500)
    make_image(camera, now - timedelta(days=20), file_size_bytes=9000)

    stats = {s.camera_id: s for s in storage_stats(now=now)}

    mine = stats[camera.pk]
    assert mine.images == 15
    assert mine.bytes_used == 14 * 500 + 9000
    assert mine.bytes_per_day == 1000
    assert mine.images_per_day == 2
    assert mine.steady_state_bytes == 10 * 1000
    assert stats[idle.pk].bytes_used == 0 and stats[idle.pk].steady_state_bytes == 0


def test_disk_low_compares_free_space_with_the_threshold(settings, data_dir):
    free = 100 * shutil.disk_usage(data_dir).free / shutil.disk_usage(data_dir).total
    settings.TIMELAPSER_DISK_LOW_PERCENT = free + 1
    assert disk_low() is True
    settings.TIMELAPSER_DISK_LOW_PERCENT = max(free - 1, 0)
    assert disk_low() is False
    assert disk_status().free_bytes > 0


@pytest.mark.django_db
def test_low_disk_runs_the_cleanup_at_once(settings, eager_tasks):
    camera = make_camera()
    old = image_file(camera, days_ago(40))
    settings.TIMELAPSER_DISK_LOW_PERCENT = 101
    assert tasks.check_disk_space() is True
    assert not Image.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_enough_disk_means_no_urgent_cleanup(settings):
    camera = make_camera()
    old = image_file(camera, days_ago(40))
    settings.TIMELAPSER_DISK_LOW_PERCENT = 0
    assert tasks.check_disk_space() is False
    assert Image.objects.filter(pk=old.pk).exists()


def test_maintenance_tasks_never_queue_behind_captures_or_renders():
    router = app.amqp.router
    assert router.route({}, "operations.tasks.nightly_cleanup")["queue"].name == "maintenance"
    assert router.route({}, "operations.tasks.check_disk_space")["queue"].name == "maintenance"


@pytest.mark.django_db
def test_beat_schedules_the_nightly_cleanup_and_the_disk_check():
    nightly = PeriodicTask.objects.get(task="operations.tasks.nightly_cleanup")
    disk = PeriodicTask.objects.get(task="operations.tasks.check_disk_space")
    assert (nightly.crontab.hour, nightly.crontab.minute) == ("3", "30")
    assert (disk.interval.every, disk.interval.period) == (10, "minutes")
    assert nightly.enabled and disk.enabled
