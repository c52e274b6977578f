"""Timelapse batches: create from a selection or chosen images, status with progress, retry."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from api.auth import require
from api.schemas import BatchIn, BatchOut
from batches import lifecycle, services
from batches.models import TimelapseBatch
from batches.selection import Selection, SelectionError
from cameras.models import Camera

router = Router(tags=["batches"])


@router.get("", response=list[BatchOut], summary="Batches, newest first")
@paginate(LimitOffsetPagination)
def list_batches(request: HttpRequest, camera: int | None = None, status: str | None = None):
    require(request, "batches.view_timelapsebatch")
    batches = TimelapseBatch.objects.order_by("-created_at", "-pk")
    if camera is not None:
        batches = batches.filter(camera_id=camera)
    if status is not None:
        batches = batches.filter(status=status)
    return batches


@router.get("/{batch_id}", response=BatchOut, summary="A batch's status and progress")
def get_batch(request: HttpRequest, batch_id: int):
    require(request, "batches.view_timelapsebatch")
    return get_object_or_404(TimelapseBatch, pk=batch_id)


@router.post("", response={201: BatchOut}, summary="Create a batch and queue its render")
def create_batch(request: HttpRequest, body: BatchIn):
    require(request, "batches.add_timelapsebatch", write=True)
    try:
        if body.image_ids:
            batch = services.add_images_to_new_batch(body.image_ids, fps=body.fps)
        elif body.camera_id is not None:
            camera = get_object_or_404(Camera, pk=body.camera_id)
            selection = Selection(**body.dict(exclude={"camera_id", "image_ids", "batch_type"}))
            batch = services.render_selection(camera, selection, batch_type=body.batch_type)
        else:
            raise HttpError(400, "Give camera_id (with an optional selection) or image_ids.")
    except SelectionError as exc:
        raise HttpError(400, str(exc)) from exc
    return Status(201, batch)


@router.post("/{batch_id}/retry", response=BatchOut, summary="Queue a failed batch again")
def retry_batch(request: HttpRequest, batch_id: int):
    require(request, "batches.change_timelapsebatch", write=True)
    batch = get_object_or_404(TimelapseBatch, pk=batch_id)
    if not lifecycle.retry(batch):
        raise HttpError(
            409, f"Batch {batch.pk} is {batch.status}, not failed; only failed batches are retried."
        )
    batch.refresh_from_db()
    return batch
