"""Beat's capture ticks: on the slot grid however late beat wakes, each naming its slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from celery import Celery
from django.conf import settings
from django_celery_beat.models import PeriodicTask
from kombu.utils.imports import symbol_by_name

import captures.tasks  # noqa: F401  (registers the capture task with every Celery app)
from cameras.beat import MAX_SPREAD_SECONDS, GridSchedule, offset_seconds
from captures.models import Image

INTERVAL = 10
# How late each of beat's wake-ups is. Counted from the last run, as django-celery-beat's
# interval schedule counts, 0.3 s a tick passes half the interval within 17 ticks; a loaded
# host's beat is late by milliseconds, so the old code got there after hours instead.
LATE_SECONDS = 0.3
TICKS = 30


class SimulatedClock(Celery):
    """A Celery app whose clock the test moves: beat's own scheduler runs on it, unchanged."""

    clock = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self):
        return self.clock


def run_beat(app: SimulatedClock, until: datetime) -> None:
    """Beat's loop (celery.beat.Service.start): tick, then sleep as long as it asks, and wake late."""
    scheduler = symbol_by_name(settings.CELERY_BEAT_SCHEDULER)(app=app)
    try:
        while app.clock < until:
            delay = scheduler.tick()
            if delay > 0:
                app.clock += timedelta(seconds=delay + LATE_SECONDS)
    finally:
        # Its last write now, while the test database exists (it registered one for exit).
        scheduler._finalize()


# A transaction of the test's own would not do: beat commits and closes connections itself.
@pytest.mark.django_db(transaction=True)
def test_beat_sends_every_slot_once_however_late_it_wakes(add, camera_server):
    """GIVEN a camera every 10 s and a beat that wakes 0.3 s late every time
    WHEN beat runs for 30 intervals
    THEN the camera has one image for every slot in between: none skipped, none twice."""
    camera = add("gridded", camera_server.url(), capture_interval_seconds=INTERVAL)
    PeriodicTask.objects.exclude(pk=camera.periodic_task_id).update(enabled=False)
    app = SimulatedClock("simulated", set_as_current=False)
    app.conf.update(task_always_eager=True, broker_url="memory://", timezone="UTC")
    app.clock = datetime.now(UTC)
    start = app.clock
    run_beat(app, until=start + timedelta(seconds=INTERVAL * TICKS))

    slots = list(
        Image.objects.filter(camera=camera).order_by("capture_slot").values_list("capture_slot", flat=True)
    )
    assert len(slots) >= TICKS - 1
    assert all(slot.timestamp() % INTERVAL == 0 for slot in slots)  # on the grid backfill counts
    assert [b - a for a, b in pairwise(slots)] == [timedelta(seconds=INTERVAL)] * (len(slots) - 1)
    # Beat counts a new row as run when it first sees it, so the first capture is for the first
    # tick after the start: the slot of that tick began up to `offset` earlier, maybe before start.
    grid = GridSchedule(timedelta(seconds=INTERVAL), offset_seconds(camera.pk, INTERVAL))
    assert slots[0] == grid.slot_at(start) + timedelta(seconds=INTERVAL)


def test_cameras_fire_spread_over_the_start_of_their_slot():
    offsets = sorted(offset_seconds(camera_id, INTERVAL) for camera_id in range(1, 21))
    assert all(0 <= offset < min(MAX_SPREAD_SECONDS, INTERVAL / 2) for offset in offsets)
    # 20 cameras over 5 s: no two within a tenth of the even spacing (0.25 s) of each other.
    assert min(b - a for a, b in pairwise(offsets)) > 0.025
    assert offset_seconds(7, 2) < 1  # a 2 s camera fires within the first half of its slot
