"""Receivers: a new capture asks the camera's continuous video to catch up (coalesced)."""

from __future__ import annotations

from django.conf import settings

from batches.continuous import request_update
from cameras.models import Camera


def on_image_captured(sender, camera: Camera, image=None, **kwargs) -> None:
    if camera.continuous_mode != Camera.ContinuousMode.EVERY_CAPTURE:
        return
    # The countdown gathers a burst of captures into the one render it queues.
    request_update(camera, countdown=settings.TIMELAPSER_CONTINUOUS_COALESCE_SECONDS)
