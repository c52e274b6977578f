from django.contrib import admin

from batches.models import TimelapseBatch, TimelapseImage


@admin.register(TimelapseBatch)
class TimelapseBatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "camera",
        "batch_type",
        "status",
        "progress_percent",
        "total_frames",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "batch_type", "generation_mode", "camera"]
    search_fields = ["output_filename", "error_message"]
    list_select_related = ["camera"]
    readonly_fields = [
        "started_at",
        "completed_at",
        "duration_seconds",
        "file_size_bytes",
        "frames_done",
        "error_message",
        "dropped_frames",
    ]


@admin.register(TimelapseImage)
class TimelapseImageAdmin(admin.ModelAdmin):
    list_display = ["timelapse_batch", "sequence_order", "image", "included_at"]
    raw_id_fields = ["timelapse_batch", "image"]
    list_select_related = ["timelapse_batch", "image"]
    show_full_result_count = False
