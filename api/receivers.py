"""Webhook events, heard through the other apps' signals (no app knows the API exists).

Payloads name cameras, batches and shares by id and name only: never a camera's
URL or credentials, never a capture's or render's error text (it may echo what
a camera said); the receiver asks the API for details.
"""

from __future__ import annotations

from django.urls import reverse

from api import webhooks
from api.models import Webhook
from batches.models import TimelapseBatch
from batches.signals import render_completed, render_failed
from operations.signals import camera_down, camera_up, shares_expiring
from sharing.services import absolute_url


def _camera(camera) -> dict:
    return {"id": camera.pk, "name": camera.name}


def on_camera_down(sender, camera, **kwargs) -> None:
    webhooks.emit(
        Webhook.Event.CAMERA_DOWN,
        {"camera": _camera(camera), "connection_failures": camera.connection_failures},
    )


def on_camera_up(sender, camera, **kwargs) -> None:
    webhooks.emit(Webhook.Event.CAMERA_UP, {"camera": _camera(camera)})


def _batch(batch_id: int) -> dict | None:
    batch = TimelapseBatch.objects.select_related("camera").filter(pk=batch_id).first()
    if batch is None:
        return None
    return {
        "batch": {
            "id": batch.pk,
            "batch_type": batch.batch_type,
            "status": batch.status,
            "total_frames": batch.total_frames,
            "duration_seconds": batch.duration_seconds,
            "file_size_bytes": batch.file_size_bytes,
            "completed_at": batch.completed_at,
        },
        "camera": _camera(batch.camera),
    }


def on_render_completed(sender, batch, **kwargs) -> None:
    payload = _batch(batch.pk)
    if payload:
        webhooks.emit(Webhook.Event.RENDER_COMPLETED, payload)


def on_render_failed(sender, batch, **kwargs) -> None:
    payload = _batch(batch.pk)
    if payload:
        webhooks.emit(Webhook.Event.RENDER_FAILED, payload)


def on_shares_expiring(sender, shares, **kwargs) -> None:
    webhooks.emit(
        Webhook.Event.SHARE_EXPIRING,
        {
            "shares": [
                {
                    "id": share.pk,
                    "title": share.title,
                    "expires_at": share.expires_at,
                    "url": absolute_url(reverse("sharing:page", args=[share.token])),
                }
                for share in shares
            ]
        },
    )


def connect() -> None:
    camera_down.connect(on_camera_down, dispatch_uid="api-webhook-camera-down")
    camera_up.connect(on_camera_up, dispatch_uid="api-webhook-camera-up")
    render_completed.connect(on_render_completed, dispatch_uid="api-webhook-render-completed")
    render_failed.connect(on_render_failed, dispatch_uid="api-webhook-render-failed")
    shares_expiring.connect(on_shares_expiring, dispatch_uid="api-webhook-shares-expiring")
