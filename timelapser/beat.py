"""Beat's scheduler: django-celery-beat's database scheduler with interval ticks on the clock's slots.

The capture task names its slot by rounding the time it runs to the camera's interval
(captures.tasks.slot_for). Stock interval schedules run `every` seconds after the last run,
so their ticks sit wherever the task was created and drift by beat's lateness each time;
a tick near half an interval then rounds one way and the next the other way, and one slot
gets two captures while its neighbour gets none (1 of 500 in bench/footprint.py). Counting
each interval from the slot boundary its last run fell in puts every tick just after a
boundary, half an interval away from the rounding edge.
"""

from __future__ import annotations

from datetime import datetime

from celery import schedules
from celery.utils.time import maybe_make_aware
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry


def slot_start(moment: datetime, step: float) -> datetime:
    """The start of the `step`-second slot (counted from the epoch, as slot_for does) holding moment."""
    moment = maybe_make_aware(moment)
    stamp = moment.timestamp()
    return datetime.fromtimestamp(stamp - stamp % step, moment.tzinfo)


class AlignedEntry(ModelEntry):
    def __init__(self, model, app=None) -> None:
        super().__init__(model, app=app)
        # Interval schedules only: crontab and solar ones are on the clock already.
        if type(self.schedule) is schedules.schedule:
            step = self.schedule.run_every.total_seconds()
            if step >= 1:
                self.last_run_at = slot_start(self.last_run_at, step)


class AlignedScheduler(DatabaseScheduler):
    Entry = AlignedEntry
