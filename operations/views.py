"""Staff-only admin pages: the dashboard, image thumbnails and camera health plots.

Each names the permission it needs: staff status alone opens the admin, not the data.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from cameras.models import Camera
from captures.models import Image
from captures.thumbnails import ThumbnailUnavailable, thumbnail_file
from operations.dashboard import dashboard_context
from operations.svg import camera_health_svg


@require_GET
@staff_member_required
@permission_required("cameras.view_camera", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "refresh_seconds": settings.TIMELAPSER_DASHBOARD_REFRESH_SECONDS,
        **dashboard_context(),
    }
    return TemplateResponse(request, "operations/dashboard.html", context)


@require_GET
@staff_member_required
@permission_required("cameras.view_camera", raise_exception=True)
def dashboard_live(request: HttpRequest) -> HttpResponse:
    """The dashboard's changing part alone, fetched again by static/timelapser/dashboard.js."""
    response = TemplateResponse(request, "operations/dashboard_live.html", dashboard_context())
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@staff_member_required
def thumbnail(request: HttpRequest, image_id: int) -> FileResponse:
    if not request.user.has_perm("captures.view_image"):
        raise PermissionDenied
    image = get_object_or_404(Image.objects.only("pk", "camera_id", "file_path"), pk=image_id)
    try:
        path = thumbnail_file(image)
    except ThumbnailUnavailable as exc:
        raise Http404("No thumbnail for this image") from exc
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
@staff_member_required
@permission_required("cameras.view_camera", raise_exception=True)
def camera_health(request: HttpRequest, camera_id: int) -> HttpResponse:
    camera = get_object_or_404(Camera, pk=camera_id)
    response = HttpResponse(camera_health_svg(camera), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
