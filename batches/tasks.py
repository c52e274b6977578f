"""Celery tasks: thin wrappers that take primary keys and call the domain modules."""

from __future__ import annotations

import logging

from celery import shared_task

from batches import continuous, lifecycle, render, services
from cameras.models import Camera

log = logging.getLogger(__name__)


@shared_task(name=lifecycle.RENDER_TASK)
def render_batch(batch_id: int) -> str | None:
    batch = render.render_batch(batch_id)
    return batch.status if batch else None


@shared_task(name="batches.tasks.recover_stale_batches")
def recover_stale_batches() -> dict:
    return lifecycle.recover_stale()


@shared_task(name="batches.tasks.update_periodic_continuous")
def update_periodic_continuous() -> int:
    """Beat: continuous videos of cameras in `periodic` mode catch up with new captures."""
    cameras = Camera.objects.filter(enabled=True, continuous_mode=Camera.ContinuousMode.PERIODIC)
    for camera in cameras:
        continuous.request_update(camera)
    return len(cameras)


@shared_task(name="batches.tasks.create_checkpoint")
def create_checkpoint(camera_id: int) -> int | None:
    """A kept-forever batch of the camera's images so far (on a schedule or a milestone)."""
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is None:
        log.info("Camera %s is gone; no checkpoint", camera_id)
        return None
    return services.checkpoint_now(camera).pk
