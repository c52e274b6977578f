"""Image and attempt admin: thumbnails, filters by camera / day / date / quality, previews."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from captures.models import CaptureAttempt, Image
from captures.thumbnails import image_path


class QualityFilter(admin.SimpleListFilter):
    title = "quality"
    parameter_name = "quality"
    BANDS = {"good": (70, 100), "fair": (40, 69), "poor": (0, 39)}

    def lookups(self, request, model_admin):
        return [
            ("good", "Good (70-100)"),
            ("fair", "Fair (40-69)"),
            ("poor", "Poor (0-39)"),
            ("none", "Not scored"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(quality_score__isnull=True)
        if self.value() in self.BANDS:
            low, high = self.BANDS[self.value()]
            return queryset.filter(quality_score__gte=low, quality_score__lte=high)
        return queryset


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "filename",
        "camera",
        "captured_at",
        "day_number",
        "quality_score",
        "width",
        "height",
        "file_size_bytes",
    ]
    list_filter = ["camera", "day_number", QualityFilter, "format"]
    # Operators look pictures up by camera ("crane") as often as by file name.
    search_fields = ["filename", "camera__name"]
    date_hierarchy = "captured_at"
    list_select_related = ["camera"]
    # file_path is never typed in: a row pointing at the secret key or the database would be
    # served by the preview (common/paths.py refuses it anyway; this keeps the form honest).
    readonly_fields = ["preview", "file_path", "day_number", "created_at"]
    show_full_result_count = False  # COUNT(*) over millions of images on every page is slow
    actions = ["add_to_new_manual_batch"]

    @admin.action(description="Add to a new manual batch (and render it)", permissions=["add_batch"])
    def add_to_new_manual_batch(self, request: HttpRequest, queryset) -> HttpResponse | None:
        from django.contrib import messages
        from django.http import HttpResponseRedirect

        from batches.selection import SelectionError
        from batches.services import add_images_to_new_batch

        try:
            batch = add_images_to_new_batch(queryset.values_list("pk", flat=True))
        except SelectionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        self.message_user(
            request, f"Batch {batch.pk} with {batch.total_frames} frames is queued for rendering."
        )
        return HttpResponseRedirect(reverse("admin:batches_timelapsebatch_change", args=[batch.pk]))

    def has_add_batch_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("batches.add_timelapsebatch")

    # An image row is a record of what a camera took: its time gives its day number and
    # its size the render's, so nobody types one in or edits one. Pictures arrive by
    # capture, "Import images" or a backfill; deleting one is operations/admin.py's.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Image | None = None) -> bool:
        return False

    @admin.display(description="")
    def thumbnail(self, image: Image) -> str:
        url = reverse("ops:thumbnail", args=[image.pk])
        return format_html('<img src="{}" alt="" loading="lazy" width="80">', url)

    @admin.display(description="Preview")
    def preview(self, image: Image) -> str:
        if not image.pk:
            return "-"
        url = reverse("admin:captures_image_file", args=[image.pk])
        return format_html('<a href="{0}"><img src="{0}" alt="" class="tl-preview"></a>', url)

    def get_urls(self):
        return [
            path(
                "<int:image_id>/file/", self.admin_site.admin_view(self.file_view), name="captures_image_file"
            ),
            *super().get_urls(),
        ]

    def _image(self, request: HttpRequest, image_id: int) -> Image:
        image = get_object_or_404(Image, pk=image_id)
        if not self.has_view_permission(request, image):
            raise PermissionDenied
        return image

    def file_view(self, request: HttpRequest, image_id: int) -> HttpResponse:
        image = self._image(request, image_id)
        path_ = image_path(image)
        if path_ is None:
            raise Http404("The image file is missing.")
        content_type = "image/png" if image.format == "PNG" else "image/jpeg"
        return FileResponse(path_.open("rb"), content_type=content_type)


@admin.register(CaptureAttempt)
class CaptureAttemptAdmin(admin.ModelAdmin):
    list_display = ["attempted_at", "camera", "status", "duration_ms", "retry_count", "error_message"]
    list_filter = ["status", "camera"]
    date_hierarchy = "attempted_at"
    list_select_related = ["camera"]
    raw_id_fields = ["image"]
    show_full_result_count = False

    # The attempts are the camera's health record (the dashboard, the notifications and the
    # API read them): written by captures only. Deleting old ones is allowed, by permission.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CaptureAttempt | None = None) -> bool:
        return False


# The Protect console and backfill run admins live in their own modules; importing registers them.
from captures import backfill_admin, protect_admin  # noqa: E402, F401
