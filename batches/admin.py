"""Batches in the admin: live progress, failure reasons, retry, and an inline player."""

from __future__ import annotations

import json
from collections import Counter

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from batches import lifecycle, newflow, services
from batches.models import DaySegment, TimelapseBatch, TimelapseImage
from batches.selection import BEST_FRAMES, SelectionError
from common import mediastore
from common.paths import media_file, safe_key
from sharing.admin import create_share_from_batches
from sharing.serving import file_response, presigned_redirect


@admin.register(TimelapseBatch)
class TimelapseBatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "camera",
        "batch_type",
        "status",
        "progress",
        "total_frames",
        "dropped",
        "reason",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "batch_type", "generation_mode", "camera"]
    # The camera's name too: the share form's batch picker (autocomplete) searches here.
    search_fields = ["camera__name", "output_filename", "error_message"]
    list_select_related = ["camera"]
    change_list_template = "admin/batches/timelapsebatch/change_list.html"
    actions = ["retry_failed", create_share_from_batches]
    # What shares play and what the worker is doing now are separate: a re-render, a
    # failure or a retry changes the attempt, never the published video (see lifecycle.complete).
    published_fields = [
        "published_at",
        "published_path",
        "published_size_bytes",
        "published_frames",
        "published_day_overlay",
        "published_day_range_start",
        "published_day_range_end",
        "retired_outputs",
    ]
    attempt_fields = [
        "status",
        "started_at",
        "completed_at",
        "render_time",
        "video_length",
        "frames_done",
        "total_frames",
        "attempts",
        "heartbeat_at",
        "error_message",
        "dropped_frames",
        "output_filename",
        "output_path",
        "file_size_bytes",
        "day_overlay_applied",
        "day_range_start",
        "day_range_end",
    ]
    readonly_fields = ["progress", "video", *published_fields, *attempt_fields, "how_chosen", "best_frames"]
    fieldsets = [
        (
            None,
            {
                # What the operator came for first: how far the render is, then the video.
                "fields": [
                    "progress",
                    "video",
                    "camera",
                    "batch_type",
                    "generation_mode",
                    "frame_rate",
                    "how_chosen",
                    "best_frames",
                ]
            },
        ),
        ("Published video: what shares play", {"fields": published_fields}),
        ("Current attempt", {"fields": attempt_fields}),
    ]

    # duration_seconds is how long the render took, not how long the video plays: two
    # labelled figures so nobody mistakes one for the other.
    @admin.display(description="Render time", ordering="duration_seconds")
    def render_time(self, batch: TimelapseBatch) -> str:
        if batch.duration_seconds is None:
            return "-"
        return f"{batch.duration_seconds:.1f} s to render"

    @admin.display(description="Video length")
    def video_length(self, batch: TimelapseBatch) -> str:
        if batch.status != TimelapseBatch.Status.COMPLETED or not batch.total_frames:
            return "-"
        seconds = batch.total_frames / batch.frame_rate
        return f"{seconds:.1f} s of video ({batch.total_frames} frames at {batch.frame_rate} fps)"

    class Media:
        js = ["batches/progress.js"]
        css = {"all": ["batches/admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Batches come from a selection (render now, image bulk action, command), never an empty form.
        return False

    def get_urls(self):
        urls = [
            path("new/", self.admin_site.admin_view(self.new_view), name="batches_timelapsebatch_new"),
            path(
                "<int:batch_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="batches_timelapsebatch_progress",
            ),
            path(
                "<int:batch_id>/video/",
                self.admin_site.admin_view(self.video_view),
                name="batches_timelapsebatch_video",
            ),
        ]
        return urls + super().get_urls()

    @admin.display(description="Progress")
    def progress(self, batch: TimelapseBatch) -> str:
        url = reverse("admin:batches_timelapsebatch_progress", args=[batch.pk])
        return format_html(
            '<progress class="batch-progress" max="100" value="{}" data-url="{}" data-status="{}"></progress>'
            ' <span class="batch-progress-text">{} / {}</span>',
            batch.progress_percent,
            url,
            batch.status,
            batch.frames_done,
            batch.total_frames,
        )

    @admin.display(description="Dropped")
    def dropped(self, batch: TimelapseBatch) -> int:
        return len(batch.dropped_frames or [])

    @admin.display(description="Why it failed")
    def reason(self, batch: TimelapseBatch) -> str:
        if batch.status != TimelapseBatch.Status.FAILED:
            return ""
        return (batch.error_message or "")[:200]

    @admin.display(description="How the frames were chosen")
    def how_chosen(self, batch: TimelapseBatch) -> str:
        # The best-frame report has its own table below; the raw JSON would bury the rest.
        # Unset choices (null) say nothing; only what was chosen is shown.
        shown = {k: v for k, v in (batch.selection or {}).items() if k != BEST_FRAMES and v is not None}
        return format_html(
            '<pre class="batch-selection">{}</pre>', json.dumps(shown, indent=1, sort_keys=True)
        )

    @admin.display(description="Best frame of each day")
    def best_frames(self, batch: TimelapseBatch) -> str:
        report = (batch.selection or {}).get(BEST_FRAMES)
        if not report:
            return "—"
        days = []
        for day in report["days"]:
            reasons = Counter(other["why"].split(" (")[0].split(";")[0] for other in day["others"])
            days.append({
                **day,
                "summary": ", ".join(f"{count} {why}" for why, count in reasons.most_common()),
                "picked": [{**pick, "url": _image_url(pick["image_id"]),
                            "thumb": reverse("ops:thumbnail", args=[pick["image_id"]])} for pick in day["picked"]],
                "others": [{**other, "url": _image_url(other["image_id"])} for other in day["others"]],
            })  # fmt: skip
        context = {"report": report, "days": days, "tz": batch.camera.timezone}
        return render_to_string("batches/best_frames.html", context)

    @admin.display(description="Video")
    def video(self, batch: TimelapseBatch) -> str:
        if not batch.published_path:
            return "—"
        url = reverse("admin:batches_timelapsebatch_video", args=[batch.pk])
        return format_html('<video controls preload="metadata" width="640" src="{}"></video>', url)

    def has_share_permission(self, request: HttpRequest) -> bool:
        # The "Create a share" action (sharing/admin.py) makes a share row.
        return request.user.has_perm("sharing.add_share")

    @admin.action(description="Retry the selected failed batches", permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset) -> None:
        retried = sum(lifecycle.retry(batch) for batch in queryset)
        skipped = queryset.count() - retried
        self.message_user(request, f"Queued {retried} batch(es) again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} batch(es) were not failed; left as they are.", messages.WARNING
            )

    def new_view(self, request: HttpRequest) -> HttpResponseBase:
        """New timelapse: the form, then (Preview) what it makes, then (Render) the batch page's progress bar."""
        if not request.user.has_perm("batches.add_timelapsebatch"):
            raise PermissionDenied
        posted = request.method == "POST"
        form = newflow.NewTimelapseForm(
            request.POST if posted else None, initial={"camera": request.GET.get("camera")}
        )
        preview = None
        if posted and form.is_valid():
            try:
                preview = newflow.plan(form.cleaned_data)
            except SelectionError as exc:
                form.add_error(None, str(exc))
            else:
                if "render" in request.POST:
                    batch = services.render_selection(form.cleaned_data["camera"], preview.selection)
                    self.message_user(request, f"Timelapse {batch.pk} is rendering.", messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:batches_timelapsebatch_change", args=[batch.pk])
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "New timelapse",
            "form": form,
            "groups": [(heading, [form[name] for name in names]) for heading, names in newflow.GROUPS],
            "preview": preview,
            "thumbs": [
                (label, reverse("ops:thumbnail", args=[pk]), at)
                for label, pk, at in (preview.samples if preview else [])
            ],
        }
        return TemplateResponse(request, "batches/new_timelapse.html", context)

    def progress_view(self, request: HttpRequest, batch_id: int) -> JsonResponse:
        if not self.has_view_permission(request):
            raise Http404
        batch = get_object_or_404(TimelapseBatch, pk=batch_id)
        return JsonResponse(
            {
                "status": batch.status,
                "frames_done": batch.frames_done,
                "total_frames": batch.total_frames,
                "percent": batch.progress_percent,
                "error_message": batch.error_message or "",
            }
        )

    def video_view(self, request: HttpRequest, batch_id: int) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise Http404
        batch = get_object_or_404(TimelapseBatch, pk=batch_id)
        if mediastore.remote():
            # As share videos: the player follows a presigned URL, and the bucket does Range.
            response = presigned_redirect(safe_key(batch.published_path), "video/mp4")
            if response is None:
                raise Http404("No video for this batch")
            return response
        video = media_file(batch.published_path)
        if video is None:
            raise Http404("No video for this batch")
        # Range requests, so the inline player can seek (Safari will not play without them).
        return file_response(request, video, "video/mp4")


def _image_url(image_id: int) -> str:
    return reverse("admin:captures_image_change", args=[image_id])


@admin.register(TimelapseImage)
class TimelapseImageAdmin(admin.ModelAdmin):
    list_display = ["timelapse_batch", "sequence_order", "image", "included_at"]
    raw_id_fields = ["timelapse_batch", "image"]
    list_select_related = ["timelapse_batch", "image"]
    show_full_result_count = False

    # A batch's frames are its trace of what went into its video: the batch services write
    # them when it is made and nothing changes them after, so the video and its record agree.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TimelapseImage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TimelapseImage | None = None) -> bool:
        return False


@admin.register(DaySegment)
class DaySegmentAdmin(admin.ModelAdmin):
    list_display = ["camera", "local_date", "day_number", "frame_count", "last_captured_at", "rendered_at"]
    list_filter = ["camera"]
    list_select_related = ["camera"]
    readonly_fields = [f.name for f in DaySegment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
