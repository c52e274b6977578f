"""Cameras: list, detail with health, latest image, capture now, test connection, still URL."""

from __future__ import annotations

from datetime import timedelta

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Query, Router, Status
from ninja.errors import AuthenticationError, HttpError

from api import services, tokens
from api.auth import BearerToken, require, still_url_auth
from api.jsonrender import json_response
from api.schemas import (
    CAMERA_FIELDS,
    CameraOut,
    CameraPage,
    CaptureOut,
    ConnectionTestOut,
    StillUrlIn,
    StillUrlOut,
)
from cameras.models import Camera
from captures.ingest import capture, grab_preview
from common import mediastore
from common.paths import media_file, safe_key
from sharing.services import absolute_url

router = Router(tags=["cameras"])
_bearer = BearerToken()


# The list and the detail answer with rows built by services.camera_rows and send them
# as JSON themselves: ninja would otherwise validate every row against CameraOut through
# its attribute getter, which cost more than the rest of the request. `response=` still
# declares the schema for the OpenAPI document; tests check the answers against it.


@router.get("", response=CameraPage, summary="List cameras with their health")
def list_cameras(
    request: HttpRequest,
    enabled: bool | None = None,
    # Bounded: SQLite and PostgreSQL take at most a 64-bit LIMIT/OFFSET, and no site has
    # anywhere near 10**9 cameras; past these, a 422 that says so rather than a 500.
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
):
    require(request, "cameras.view_camera")
    items = services.camera_rows(CAMERA_FIELDS, enabled=enabled, limit=limit, offset=offset)
    # A page that is not full ends the list: its count needs no COUNT query.
    if (items and len(items) < limit) or (not items and offset == 0):
        count = offset + len(items)
    else:
        count = services.camera_count(enabled)
    return json_response({"items": items, "count": count})


@router.get("/{camera_id}", response=CameraOut, summary="One camera with its health")
def get_camera(request: HttpRequest, camera_id: int):
    require(request, "cameras.view_camera")
    rows = services.camera_rows(CAMERA_FIELDS, pk=camera_id)
    if not rows:
        raise Http404
    return json_response(rows[0])


@router.get(
    "/{camera_id}/latest.jpg",
    auth=None,
    summary="The camera's newest image",
    description="A still-image URL: send `Authorization: Bearer TOKEN`, or use the `sig` value from "
    "`POST /cameras/{id}/still-url` (for clients that cannot send headers, such as Home Assistant).",
    openapi_extra={
        "responses": {200: {"description": "The image", "content": {"image/jpeg": {}}}},
        "security": [{"BearerToken": []}, {}],
    },
)
def latest_jpg(request: HttpRequest, camera_id: int, sig: str = ""):
    request.auth = _bearer(request) or still_url_auth(request, camera_id)
    if not request.auth:
        raise AuthenticationError
    require(request, "captures.view_image")
    camera = get_object_or_404(Camera, pk=camera_id)
    image = services.latest_image(camera)
    kind = "image/png" if image and image.format == "PNG" else "image/jpeg"
    if mediastore.remote():
        # Proxied, not redirected: still-image clients (Home Assistant) may not follow
        # a redirect to another host, and one image is small.
        response = HttpResponse(_bucket_bytes(image), content_type=kind)
        response["Cache-Control"] = "private, no-cache"
        return response
    path = media_file(image.file_path) if image else None
    if path is None:
        raise HttpError(404, "This camera has no image yet.")
    response = FileResponse(path.open("rb"), content_type=kind)
    response["Cache-Control"] = "private, no-cache"
    return response


def _bucket_bytes(image) -> bytes:
    key = safe_key(image.file_path) if image else None
    try:
        data = mediastore.read(key) if key else None
    except mediastore.MediaStoreError as exc:
        raise HttpError(503, "Media storage is unavailable; try again shortly.") from exc
    if data is None:
        raise HttpError(404, "This camera has no image yet.")
    return data


@router.post("/{camera_id}/still-url", response=StillUrlOut, summary="A signed, expiring latest.jpg URL")
def still_url(request: HttpRequest, camera_id: int, body: StillUrlIn):
    token = require(request, "captures.view_image")
    camera = get_object_or_404(Camera, pk=camera_id)
    value, expires = tokens.sign_still(camera.pk, token, timedelta(days=body.valid_days))
    path = reverse("api:latest_jpg", args=[camera.pk])
    return {"url": absolute_url(f"{path}?sig={value}"), "expires_at": expires}


@router.post(
    "/{camera_id}/capture",
    response={201: CaptureOut, 502: CaptureOut},
    summary="Capture an image now",
)
def capture_now(request: HttpRequest, camera_id: int):
    require(request, "cameras.change_camera", write=True)
    outcome = capture(get_object_or_404(Camera, pk=camera_id))
    attempt = outcome.attempt
    body = {
        "ok": outcome.ok,
        "status": attempt.status if attempt else "success",
        "image_id": outcome.image.pk if outcome.image else None,
        "duration_ms": attempt.duration_ms if attempt else None,
        "message": "Captured." if outcome.ok else outcome.reason,
    }
    return Status(201 if outcome.ok else 502, body)


@router.post("/{camera_id}/test", response=ConnectionTestOut, summary="Test the connection (stores nothing)")
def test_connection(request: HttpRequest, camera_id: int):
    require(request, "cameras.change_camera", write=True)
    picture, latency_ms, reason = grab_preview(get_object_or_404(Camera, pk=camera_id))
    return {
        "ok": picture is not None,
        "latency_ms": latency_ms,
        "width": picture.width if picture else None,
        "height": picture.height if picture else None,
        "size_bytes": len(picture.data) if picture else None,
        "message": reason or "The camera answered with an image.",
    }
