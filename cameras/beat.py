"""Beat's scheduler for camera captures: ticks on the slot grid, and each tick names its slot.

django-celery-beat's interval schedule counts each tick from the moment the last one ran, so
every late wake-up (a busy host, a slow database) pushes all later ticks back for good; the
capture task used to name its slot by rounding the time it ran, and once the drift passed half
an interval two ticks rounded to one slot and a slot was skipped. Here a camera's ticks sit on
the grid its slots are on (multiples of its interval since the epoch), lateness never adds up,
and beat passes the slot it fired for with the task, so how long the task waited in the queue
does not matter either. Cameras fire at a fixed offset past their slot, spread over the first
part of the interval: all of them at the same instant was a burst of SQLite writes that missed
more slots than the drift did (README, "Layouts").

`CELERY_BEAT_SCHEDULER` names `CaptureScheduler`; every other periodic task keeps
django-celery-beat's own behaviour.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from celery import schedules
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from cameras.schedule import CAPTURE_TASK

# Cameras fire within this much of their slot's start, at most half their interval.
MAX_SPREAD_SECONDS = 5.0
# Consecutive camera ids land far apart in [0, 1) (the golden ratio's fractional part).
SPREAD_STEP = 0.6180339887


def offset_seconds(camera_id: int, interval_seconds: int) -> float:
    """How long after each of its slots a camera fires: fixed per camera, spread between cameras."""
    return (camera_id * SPREAD_STEP) % 1 * min(MAX_SPREAD_SECONDS, interval_seconds / 2)


class GridSchedule(schedules.schedule):
    """Due `offset` seconds after every multiple of `run_every` since the epoch (UTC)."""

    def __init__(self, run_every: timedelta, offset: float = 0.0, app=None) -> None:
        super().__init__(run_every, app=app)
        self.offset = offset

    def slot_at(self, when: datetime) -> datetime:
        """The slot whose tick is the latest one at or before `when`."""
        step = self.run_every.total_seconds()
        return datetime.fromtimestamp(math.floor((when.timestamp() - self.offset) / step) * step, UTC)

    def next_tick_after(self, when: datetime) -> datetime:
        return self.slot_at(when) + self.run_every + timedelta(seconds=self.offset)

    def is_due(self, last_run_at: datetime) -> schedules.schedstate:
        # Due once a tick has passed since the last run. Several passed (beat was stopped or
        # stalled): one run, for the latest slot; the slots it slept through stay missed.
        now = self.now()
        if self.next_tick_after(last_run_at) <= now:
            return schedules.schedstate(True, (self.next_tick_after(now) - now).total_seconds())
        return schedules.schedstate(False, (self.next_tick_after(last_run_at) - now).total_seconds())

    def __eq__(self, other) -> bool:
        return isinstance(other, GridSchedule) and (self.run_every, self.offset) == (
            other.run_every,
            other.offset,
        )

    def __hash__(self) -> int:
        return hash((self.run_every, self.offset))

    def __repr__(self) -> str:
        return f"<every {self.human_seconds}, {self.offset:.2f} s past the slot>"


class CaptureEntry(ModelEntry):
    """A beat row; a camera's capture row gets the grid schedule."""

    def __init__(self, model, app=None) -> None:
        super().__init__(model, app=app)
        if self.task == CAPTURE_TASK and model.interval_id is not None and self.args:
            every = self.schedule.run_every
            self.schedule = GridSchedule(
                every, offset_seconds(int(self.args[0]), int(every.total_seconds())), app=self.app
            )

    def _default_now(self) -> datetime:
        # The run time beat records and the time the schedule compares it with: one clock.
        return self.app.now()

    def __next__(self) -> CaptureEntry:
        # ModelEntry.__next__, except that the next entry keeps this one's app (and its clock)
        # rather than falling back to the current app.
        self.model.last_run_at = self._default_now()
        self.model.total_run_count += 1
        self.model.no_changes = True
        return self.__class__(self.model, app=self.app)


class CaptureScheduler(DatabaseScheduler):
    """django-celery-beat's database scheduler; a capture is sent with the slot its tick is for."""

    Entry = CaptureEntry

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        if not isinstance(entry.schedule, GridSchedule):
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        # The slot goes with this one message; the entry's kwargs are the row's and stay so
        # (beat runs in one thread, and nothing else reads the entry meanwhile).
        row_kwargs = entry.kwargs
        entry.kwargs = {**row_kwargs, "slot_iso": entry.schedule.slot_at(self.app.now()).isoformat()}
        try:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        finally:
            entry.kwargs = row_kwargs
