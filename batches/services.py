"""What the admin's buttons and actions call: render now, make a batch of chosen images, retry."""

from __future__ import annotations

import json

from django_celery_beat.models import CrontabSchedule, PeriodicTask

from batches import continuous, render
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch, create_batch_from_images
from cameras.models import Camera

__all__ = ["add_images_to_new_batch", "checkpoint_now", "render_now", "retry", "schedule_checkpoints"]

CHECKPOINT_SCHEDULES = {
    "weekly": {"day_of_week": "1", "day_of_month": "*"},
    "monthly": {"day_of_week": "*", "day_of_month": "1"},
}


def render_now(camera: Camera, batch_type: str = TimelapseBatch.BatchType.MANUAL) -> TimelapseBatch:
    """The camera page's "render now": a batch of all the camera's images, queued on the render queue.

    For a camera with a continuous video, batch_type="continuous" brings that video up to date instead.
    Raises selection.SelectionError (a readable message) when the camera has no images.
    """
    if batch_type == TimelapseBatch.BatchType.CONTINUOUS:
        return continuous.request_update(camera)
    batch = create_batch(camera, Selection(), batch_type=batch_type)
    render.enqueue(batch.pk)
    return batch


def checkpoint_now(camera: Camera, selection: Selection | None = None) -> TimelapseBatch:
    """A checkpoint (kept-forever) batch of the camera's images, queued for rendering."""
    batch = create_batch(camera, selection or Selection(), batch_type=TimelapseBatch.BatchType.CHECKPOINT)
    render.enqueue(batch.pk)
    return batch


def add_images_to_new_batch(images, fps: int = 30) -> TimelapseBatch:
    """The image admin's bulk action "add to new manual batch": a pending manual batch, queued."""
    batch = create_batch_from_images(images, fps=fps)
    render.enqueue(batch.pk)
    return batch


def retry(batch: TimelapseBatch) -> bool:
    """Failed -> pending and queued again; False when the batch was not failed."""
    return render.retry(batch)


def schedule_checkpoints(camera: Camera, every: str | None) -> PeriodicTask | None:
    """Checkpoints at local midnight every Monday ("weekly") or 1st ("monthly"); None stops them."""
    name = f"checkpoint: camera {camera.pk}"
    if every is None:
        PeriodicTask.objects.filter(name=name).delete()
        return None
    if every not in CHECKPOINT_SCHEDULES:
        raise ValueError(f"Checkpoints run weekly or monthly, not {every!r}.")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="0", month_of_year="*", timezone=camera.timezone, **CHECKPOINT_SCHEDULES[every]
    )
    task, _ = PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": "batches.tasks.create_checkpoint",
            "crontab": crontab,
            "interval": None,
            "args": json.dumps([camera.pk]),
            "queue": "render",
            "enabled": True,
        },
    )
    return task
