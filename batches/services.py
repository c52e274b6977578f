"""What the admin's buttons and actions call: render now, a checkpoint, a batch of chosen images."""

from __future__ import annotations

from batches import continuous, lifecycle
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch, create_batch_from_images
from cameras.models import Camera

__all__ = ["add_images_to_new_batch", "checkpoint_now", "render_now", "render_selection"]


def render_now(camera: Camera, batch_type: str = TimelapseBatch.BatchType.MANUAL) -> TimelapseBatch:
    """The camera page's "render now": a batch of all the camera's images, queued on the render queue.

    For a camera with a continuous video, batch_type="continuous" brings that video up to date instead.
    Raises selection.SelectionError (a readable message) when the camera has no images.
    """
    if batch_type == TimelapseBatch.BatchType.CONTINUOUS:
        return continuous.request_update(camera)
    batch = create_batch(camera, Selection(), batch_type=batch_type)
    lifecycle.enqueue(batch.pk)
    return batch


def checkpoint_now(camera: Camera, selection: Selection | None = None) -> TimelapseBatch:
    """A checkpoint (kept-forever) batch of the camera's images, queued for rendering."""
    batch = create_batch(camera, selection or Selection(), batch_type=TimelapseBatch.BatchType.CHECKPOINT)
    lifecycle.enqueue(batch.pk)
    return batch


def render_selection(
    camera: Camera, selection: Selection, batch_type: str = TimelapseBatch.BatchType.MANUAL
) -> TimelapseBatch:
    """A manual or checkpoint batch of the images a selection picks, queued (the API's "create")."""
    if batch_type not in (TimelapseBatch.BatchType.MANUAL, TimelapseBatch.BatchType.CHECKPOINT):
        raise ValueError(f"render_selection makes manual or checkpoint batches, not {batch_type!r}")
    batch = create_batch(camera, selection, batch_type=batch_type)
    lifecycle.enqueue(batch.pk)
    return batch


def add_images_to_new_batch(images, fps: int = 30) -> TimelapseBatch:
    """The image admin's bulk action "add to new manual batch": a pending manual batch, queued."""
    batch = create_batch_from_images(images, fps=fps)
    lifecycle.enqueue(batch.pk)
    return batch
