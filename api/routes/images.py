"""Images of a camera by date range, newest first, paged by key."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from api import services
from api.auth import require
from api.schemas import ImagePage
from cameras.models import Camera

router = Router(tags=["images"])


class ImageFilter(Schema):
    camera: int = Field(description="Camera id")
    # Days whose midnight, in any time zone, is still a datetime Python and the databases hold.
    date_from: date | None = Field(
        None,
        ge=date(1970, 1, 2),
        le=date(9999, 12, 30),
        description="First local day (the camera's time zone)",
    )
    date_to: date | None = Field(
        None, ge=date(1970, 1, 2), le=date(9999, 12, 30), description="Last local day, included"
    )
    cursor: str | None = Field(None, max_length=200, description="`next_cursor` of the previous page")
    limit: int = Field(100, ge=1, le=500)


@router.get("", response=ImagePage, summary="A camera's images, newest first")
def list_images(request: HttpRequest, filters: Query[ImageFilter]):
    require(request, "captures.view_image")
    camera = get_object_or_404(Camera, pk=filters.camera)
    try:
        return services.image_page(camera, filters.date_from, filters.date_to, filters.cursor, filters.limit)
    except services.BadCursor as exc:
        raise HttpError(400, str(exc)) from exc
