"""Beat's interval ticks fall just after the clock's slot boundaries, so every slot gets its capture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from captures.tasks import slot_for
from timelapser.beat import AlignedEntry, slot_start
from timelapser.celery import app


def test_slot_start_is_the_boundary_before_the_moment():
    moment = datetime(2026, 12, 2, 18, 0, 14, 700000, tzinfo=UTC)
    assert slot_start(moment, 10) == datetime(2026, 12, 2, 18, 0, 10, tzinfo=UTC)


@pytest.mark.django_db
def test_ticks_stay_on_their_slots_when_beat_runs_late():
    """GIVEN a camera task created 4.6 s into a 10 s slot, and beat sending each tick 0.3 s late
    WHEN it has ticked 30 times
    THEN every tick, rounded as the capture task rounds it, names a new slot: none skipped."""
    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    created = datetime(2026, 12, 2, 18, 0, 4, 600000, tzinfo=UTC)
    task = PeriodicTask.objects.create(
        name="capture camera 1", task="captures.tasks.capture_camera", interval=every, last_run_at=created
    )
    entry = AlignedEntry(task, app=app)
    slots = []
    for _ in range(30):
        due = entry.last_run_at + entry.schedule.run_every
        sent = due + timedelta(seconds=0.3)
        slots.append(slot_for(sent, 10))
        task.last_run_at = sent  # what ModelEntry.__next__ stores: the time it sent
        entry = AlignedEntry(task, app=app)
    assert slots == [slots[0] + timedelta(seconds=10 * n) for n in range(30)]
