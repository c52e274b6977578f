from django.contrib import admin

from captures.models import CaptureAttempt, Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = [
        "filename",
        "camera",
        "captured_at",
        "day_number",
        "quality_score",
        "width",
        "height",
        "file_size_bytes",
    ]
    list_filter = ["camera", "format"]
    search_fields = ["filename"]
    date_hierarchy = "captured_at"
    list_select_related = ["camera"]
    readonly_fields = ["day_number", "created_at"]
    show_full_result_count = False  # COUNT(*) over millions of images on every page is slow


@admin.register(CaptureAttempt)
class CaptureAttemptAdmin(admin.ModelAdmin):
    list_display = ["attempted_at", "camera", "status", "duration_ms", "retry_count", "error_message"]
    list_filter = ["status", "camera"]
    date_hierarchy = "attempted_at"
    list_select_related = ["camera"]
    raw_id_fields = ["image"]
    show_full_result_count = False
