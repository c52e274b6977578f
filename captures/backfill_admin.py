"""Backfill runs in the admin: start one from the camera page, watch its progress, list past runs.

Registered from captures/admin.py. Starting needs captures.add_backfillrun (and seeing the camera);
watching needs captures.view_backfillrun. The work itself runs on the maintenance worker.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from cameras.models import Camera
from captures import backfill_runs
from captures.models import BackfillRun

START_PERMISSION = "captures.add_backfillrun"
RECENT_RUNS_SHOWN = 10


class RangeForm(forms.Form):
    first_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Included. Days are in the camera's time zone.",
    )

    def clean(self):
        data = super().clean()
        if data.get("first_day") and data.get("last_day") and data["last_day"] < data["first_day"]:
            raise forms.ValidationError("The last day must not be before the first day.")
        return data


def progress_payload(run: BackfillRun) -> dict:
    """What the progress page shows and its script polls: counters only, never a secret."""
    return {
        "state": run.state,
        "state_label": run.get_state_display(),
        "percent": run.percent,
        "total": run.slots_total,
        "filled": run.slots_filled,
        "skipped": run.slots_skipped,
        "failed": run.slots_failed,
        "done": run.slots_done,
        "finished": run.finished,
    }


@admin.register(BackfillRun)
class BackfillRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "camera",
        "range_start",
        "range_end",
        "state",
        "progress",
        "started_by",
        "created_at",
    ]
    list_filter = ["state", "camera"]
    list_select_related = ["camera", "started_by"]

    # Runs are started from the camera page and written by the worker: never edited by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, run: BackfillRun) -> str:
        url = reverse("admin:captures_backfillrun_progress", args=[run.pk])
        return format_html(
            '<a href="{}">{} / {} ({}%)</a>', url, run.slots_done, run.slots_total, run.percent
        )

    def get_urls(self):
        site = self.admin_site
        return [
            path(
                "start/<int:camera_id>/", site.admin_view(self.start_view), name="captures_backfillrun_start"
            ),
            path(
                "<int:run_id>/progress/",
                site.admin_view(self.progress_view),
                name="captures_backfillrun_progress",
            ),
            path(
                "<int:run_id>/progress.json",
                site.admin_view(self.progress_json),
                name="captures_backfillrun_progress_json",
            ),
            *super().get_urls(),
        ]

    def start_view(self, request: HttpRequest, camera_id: int) -> HttpResponse:
        """GET: the date range form and the camera's last runs; POST: queue a run and go to its progress."""
        camera = get_object_or_404(Camera, pk=camera_id)
        user = request.user
        sees_camera = user.has_perm("cameras.view_camera") or user.has_perm("cameras.change_camera")
        if not (user.has_perm(START_PERMISSION) and sees_camera):
            raise PermissionDenied
        yesterday = timezone.localdate(timezone=zoneinfo.ZoneInfo(camera.timezone)) - timedelta(days=1)
        form = RangeForm(
            request.POST if request.method == "POST" else None,
            initial={"first_day": yesterday, "last_day": yesterday},
        )
        if request.method == "POST" and form.is_valid():
            start = backfill_runs.day_bound(form.cleaned_data["first_day"], camera.timezone, end=False)
            end = backfill_runs.day_bound(form.cleaned_data["last_day"], camera.timezone, end=True)
            try:
                run = backfill_runs.start(camera, start, end, user=request.user)
            except backfill_runs.RunRefused as exc:
                form.add_error(None, str(exc))
            else:
                return HttpResponseRedirect(reverse("admin:captures_backfillrun_progress", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "camera": camera,
            "title": f"Fill gaps from recordings: {camera.name}",
            "form": form,
            "runs": camera.backfill_runs.select_related("started_by")[:RECENT_RUNS_SHOWN],
        }
        return TemplateResponse(request, "captures/backfill_start.html", context)

    def _run_or_deny(self, request: HttpRequest, run_id: int) -> BackfillRun:
        run = get_object_or_404(BackfillRun.objects.select_related("camera", "started_by"), pk=run_id)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        return run

    def progress_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = self._run_or_deny(request, run_id)
        tz = zoneinfo.ZoneInfo(run.camera.timezone)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "run": run,
            "camera": run.camera,
            "title": f"Filling gaps: {run.camera.name}",
            "range_start": timezone.localtime(run.range_start, tz),
            "range_end": timezone.localtime(run.range_end, tz),
            "payload": progress_payload(run),
            "can_start": request.user.has_perm(START_PERMISSION),
        }
        return TemplateResponse(request, "captures/backfill_progress.html", context)

    def progress_json(self, request: HttpRequest, run_id: int) -> JsonResponse:
        return JsonResponse(progress_payload(self._run_or_deny(request, run_id)))
