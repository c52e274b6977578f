"""Camera admin: write-only URL and credentials, "Test connection" and "Capture now"."""

from __future__ import annotations

import base64

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from batches import watermark
from batches.logo_form import LogoUploadMixin
from batches.models import RenderSettings
from cameras.models import Camera
from cameras.schedule import describe_schedule
from cameras.services import (
    CameraError,
    check_url,
    connection_summary,
    set_camera_credentials,
    set_camera_url,
)
from cameras.widgets import MetadataField, OverlayStyleField, ThinningTiersField, WeekdaysField
from captures.retention import GRANULARITIES, tiers_from_json
from sharing.admin import PeriodVideoInline

WRITE_ONLY = "Write-only: never shown again. Leave empty to keep the current value."


class CameraForm(forms.ModelForm):
    # Rendered empty every time (render_value=False): the admin never sends a secret back.
    camera_url = forms.CharField(
        label="New camera URL",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 60}),
        help_text="http(s)://HOST/snap.jpeg, rtsp(s)://NVR:7441/ALIAS, unifi-protect://CONSOLE/CAMERA_ID "
        "or env:VARIABLE. " + WRITE_ONLY,
    )
    # Not a secret: shown so the operator sees who the camera logs in as; emptied, it is removed.
    username = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        label="New password",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=WRITE_ONLY,
    )
    clear_password = forms.BooleanField(label="Remove the stored password", required=False)
    api_key = forms.CharField(
        label="New API key (UniFi Protect)",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=WRITE_ONLY,
    )
    clear_api_key = forms.BooleanField(label="Remove the stored API key", required=False)
    capture_weekdays = WeekdaysField(label="Capture on")
    thinning_tiers = ThinningTiersField(
        GRANULARITIES,
        tiers_from_json,
        label="Thinning",
        help_text="Older pictures are thinned: e.g. after 30 days keep one picture an hour, after 180 "
        "days one a day. No rows: the server's default policy.",
    )
    metadata = MetadataField(label="Notes", help_text="Free name/value pairs, e.g. site = North tower.")
    day_overlay_style = OverlayStyleField(label="Day badge")

    class Meta:
        model = Camera
        # Never url_hash or encryption_key_ref: neither is shown nor typed.
        fields = [
            "name",
            "enabled",
            "capture_interval_seconds",
            "capture_weekdays",
            "window_start",
            "window_end",
            "daylight_only",
            "latitude",
            "longitude",
            "sunrise_offset_minutes",
            "sunset_offset_minutes",
            "rotation",
            "timezone",
            "day_counter_enabled",
            "day_counter_start_date",
            "day_overlay_position",
            "day_overlay_style",
            "continuous_mode",
            "render_max_width",
            "retention_days",
            "thinning_tiers",
            "metadata",
            "source_mode",
        ]
        widgets = {"day_overlay_position": forms.RadioSelect(attrs={"class": "tl-corners"})}
        labels = {
            "capture_interval_seconds": "Every (seconds)",
            "window_start": "From",
            "window_end": "Until",
            "sunrise_offset_minutes": "Start (minutes after sunrise)",
            "sunset_offset_minutes": "Stop (minutes after sunset)",
            "day_overlay_position": "Day badge corner",
        }
        help_texts = {
            "window_start": "Leave both times empty to capture all day.",
            "sunrise_offset_minutes": "Negative starts before sunrise.",
            "sunset_offset_minutes": "Negative stops before sunset.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection_summary(self.instance) if self.instance.pk else None
        if self.connection is not None:
            self.initial.setdefault("username", self.connection.username)
        self._set_overlay_preview()

    def _set_overlay_preview(self) -> None:
        from captures.models import Image

        latest = (
            Image.objects.filter(camera=self.instance).order_by("-captured_at").first()
            if self.instance.pk
            else None
        )
        widget = self.fields["day_overlay_style"].widget
        if latest is not None:
            widget.preview_url = reverse("admin:captures_image_file", args=[latest.pk])
            widget.preview_text = f"Day {latest.day_number or 1}"

    def clean(self):
        data = super().clean()
        url = data.get("camera_url", "").strip()
        if not url and not self.instance.pk:
            self.add_error("camera_url", "A new camera needs its URL.")
        elif url:
            try:
                check_url(url, exclude_pk=self.instance.pk)
            except CameraError as exc:
                self.add_error("camera_url", str(exc))
        if data.get("clear_password") and data.get("password"):
            self.add_error("clear_password", "Either type a new password or remove it, not both.")
        if data.get("clear_api_key") and data.get("api_key"):
            self.add_error("clear_api_key", "Either type a new API key or remove it, not both.")
        start, end = data.get("window_start"), data.get("window_end")
        if (start is None) != (end is None):
            self.add_error("window_end" if start else "window_start", "Give both times, or neither.")
        elif start is not None and start == end:
            self.add_error("window_end", "The window would be empty: choose a later time.")
        if data.get("daylight_only") and (data.get("latitude") is None or data.get("longitude") is None):
            self.add_error("latitude", "Daylight only needs the camera's latitude and longitude.")
        return data

    def credential_changes(self) -> tuple[dict[str, str], frozenset[str]]:
        """(new credentials, names to remove) from what the operator typed and ticked."""
        data = self.cleaned_data
        typed = {name: data.get(name, "") for name in ("username", "password", "api_key")}
        clear = {name for name in ("password", "api_key") if data.get(f"clear_{name}")}
        if self.connection is not None and self.connection.username and not typed["username"]:
            clear.add("username")
        return typed, frozenset(clear)


# The camera page's buttons and the permission each one's work needs. The views check it;
# the page shows only the buttons the operator may press.
BUTTON_PERMISSIONS = {
    # Changes nothing, but reaches out to the camera with its secrets: for those who may edit them.
    "test-connection": "cameras.change_camera",
    "capture-now": "captures.add_image",
    "import-images": "captures.add_image",
    "render-now": "batches.add_timelapsebatch",
    # A page of captures' backfill admin (captures/backfill_admin.py), shown for console cameras.
    "fill-gaps": "captures.add_backfillrun",
}

IMPORT_FAILURES_SHOWN = 100
IMPORT_REQUEST_SECONDS = 20


class ImportForm(forms.Form):
    folder = forms.CharField(
        label="Folder on the server",
        max_length=4096,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="JPEG and PNG files in it and its subfolders; the time comes from EXIF, else the "
        "file's date. Files imported before are skipped.",
    )


class RenderSettingsForm(LogoUploadMixin, forms.ModelForm):
    logo = forms.FileField(
        label="Watermark logo",
        required=False,
        help_text=f"A PNG (transparency kept), at most {watermark.MAX_SIDE} pixels a side; drawn on every "
        "frame of new renders. Leave empty to keep the current one.",
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)

    class Meta:
        model = RenderSettings
        fields = ["deflicker", "stabilize", "timestamp_caption",
                  "watermark_position", "watermark_width_percent", "watermark_opacity"]  # fmt: skip

    def save(self, commit=True):
        settings_row = super().save(commit=False)
        if self.cleaned_data.get("remove_logo"):
            watermark.remove(settings_row)
        elif self.logo_data:
            watermark.store(settings_row, self.logo_data)
        if commit:
            settings_row.save()
        return settings_row


class RenderSettingsInline(admin.StackedInline):
    """Deflicker, stabilization, timestamp and logo: the camera's render defaults (batches app)."""

    model = RenderSettings
    form = RenderSettingsForm
    can_delete = False
    max_num = 1
    verbose_name = verbose_name_plural = "Render finishing"
    readonly_fields = ["logo_set"]
    fields = ["deflicker", "stabilize", "timestamp_caption", "logo_set", "logo", "remove_logo",
              "watermark_position", "watermark_width_percent", "watermark_opacity"]  # fmt: skip

    @admin.display(boolean=True, description="Logo set")
    def logo_set(self, render_settings: RenderSettings) -> bool:
        return bool(render_settings.watermark_path)


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    form = CameraForm
    inlines = [RenderSettingsInline, PeriodVideoInline]
    change_form_template = "admin/cameras/camera/change_form.html"
    list_display = [
        "name",
        "enabled",
        "url_configured",
        "capture_interval_seconds",
        "connection_failures",
        "last_health_check",
    ]
    list_filter = ["enabled", "day_counter_enabled", "rotation", "continuous_mode"]
    search_fields = ["name"]
    actions = ["preview_cleanup"]
    # The URL lives outside the database; its hash and the secret's location are
    # never shown either (a hash of a LAN URL is brute-forced in seconds).
    readonly_fields = [
        "console",
        "url_configured",
        "connection",
        "schedule_summary",
        "retention_policy",
        "storage",
        "last_health_check",
        "connection_failures",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "enabled", "url_configured"]}),
        (
            "Connection",
            {
                "fields": [
                    "connection",
                    "camera_url",
                    "username",
                    ("password", "clear_password"),
                    ("api_key", "clear_api_key"),
                ]
            },
        ),
        ("UniFi Protect", {"fields": ["console", "source_mode"], "classes": ["collapse"]}),
        (
            "Schedule",
            {
                "fields": [
                    "schedule_summary",
                    "capture_interval_seconds",
                    "capture_weekdays",
                    ("window_start", "window_end"),
                    "daylight_only",
                    ("latitude", "longitude"),
                    ("sunrise_offset_minutes", "sunset_offset_minutes"),
                ]
            },
        ),
        (
            "Pictures and Day N",
            {
                "fields": [
                    "rotation",
                    "timezone",
                    "day_counter_enabled",
                    "day_counter_start_date",
                    "day_overlay_position",
                    "day_overlay_style",
                ]
            },
        ),
        (
            "Rendering and retention",
            {
                "fields": [
                    "continuous_mode",
                    "render_max_width",
                    "retention_days",
                    "thinning_tiers",
                    "retention_policy",
                    "storage",
                    "metadata",
                ]
            },
        ),
        ("Health", {"fields": ["connection_failures", "last_health_check", "created_at", "updated_at"]}),
    ]

    @admin.display(boolean=True, description="URL set")
    def url_configured(self, camera: Camera) -> bool:
        return camera.has_url and bool(camera.encryption_key_ref)

    @admin.display(description="Captures")
    def schedule_summary(self, camera: Camera) -> str:
        if not camera.pk:
            return "Shown here once the camera is saved."
        return format_html('<span class="tl-schedule-sentence">{}</span>', describe_schedule(camera))

    @admin.display(description="Now")
    def connection(self, camera: Camera) -> str:
        summary = connection_summary(camera) if camera.pk else None
        if summary is None:
            return "No URL yet."
        if summary.problem:
            return format_html('<span class="tl-unset">{}</span> (from {})', summary.problem, summary.where)

        def flag(is_set: bool, what: str) -> str:
            return format_html(
                '<span class="{}">{} {}</span>',
                "tl-set" if is_set else "tl-unset",
                what,
                "set" if is_set else "not set",
            )

        return format_html(
            "<code>{}</code><br>from {} · user: {} · {} · {}",
            summary.masked_url,
            summary.where,
            summary.username or "none",
            flag(summary.password_set, "password"),
            flag(summary.api_key_set, "API key"),
        )

    @admin.display(description="Policy in force")
    def retention_policy(self, camera: Camera) -> str:
        from captures.retention import policy_for

        if not camera.pk:
            return "-"
        try:
            return policy_for(camera).describe()
        except ValueError as exc:
            return f"Invalid thinning tiers: {exc}"

    @admin.display(description="Disk use and forecast")
    def storage(self, camera: Camera) -> str:
        from django.template.defaultfilters import filesizeformat

        from captures.retention import storage_stats

        if not camera.pk:
            return "-"
        stats = storage_stats(cameras=[camera])[0]
        steady = (
            filesizeformat(stats.steady_state_bytes)
            if stats.steady_state_bytes is not None
            else "keeps growing (a tier keeps images forever)"
        )
        return (
            f"{stats.images} images, {filesizeformat(stats.bytes_used)} now; "
            f"{filesizeformat(stats.bytes_per_day)} a day over the last 7 days; "
            f"at this rate the policy settles at {steady}."
        )

    def save_model(self, request, obj, form, change):
        url = form.cleaned_data.get("camera_url", "").strip()
        credentials, clear = form.credential_changes()
        try:
            if url:
                set_camera_url(obj, url, **credentials)
                return
            obj.save()
            if any(credentials.values()) or clear:
                set_camera_credentials(obj, **credentials, clear=clear)
        except CameraError as exc:
            messages.error(request, str(exc))

    def get_urls(self):
        # The camera page's buttons: /admin/cameras/camera/<id>/<action>/.
        views = {
            "test-connection": self.test_connection_view,
            "capture-now": self.capture_now_view,
            "import-images": self.import_images_view,
            "render-now": self.render_now_view,
        }
        urls = [
            path(
                f"<int:camera_id>/{action}/",
                self.admin_site.admin_view(view),
                name=f"cameras_camera_{action.replace('-', '_')}",
            )
            for action, view in views.items()
        ]
        return urls + super().get_urls()

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only, the write-only fields would show "None" for a password that is set.
            return [fs for fs in fieldsets if fs[0] != "Connection"]
        return fieldsets

    def change_view(self, request, object_id, form_url="", extra_context=None):
        buttons = {
            action.replace("-", "_"): request.user.has_perm(permission)
            for action, permission in BUTTON_PERMISSIONS.items()
        }
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "buttons": buttons}
        )

    def _camera_or_deny(self, request: HttpRequest, camera_id: int, action: str) -> Camera:
        """The camera, if the user may see it and holds the permission the button's work needs."""
        camera = get_object_or_404(Camera, pk=camera_id)
        allowed = request.user.has_perm(BUTTON_PERMISSIONS[action])
        if not (allowed and self.has_view_permission(request, camera)):
            raise PermissionDenied
        return camera

    def test_connection_view(self, request: HttpRequest, camera_id: int) -> HttpResponse:
        """Grab one frame without storing it: show it with its size and latency, or why not."""
        from captures.ingest import grab_preview

        camera = self._camera_or_deny(request, camera_id, "test-connection")
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:cameras_camera_change", args=[camera.pk]))
        picture, latency_ms, reason = grab_preview(camera)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "camera": camera,
            "title": f"Test connection: {camera.name}",
            "latency_ms": latency_ms,
            "reason": reason,
        }
        if picture is not None:
            from captures import preview

            mime = "image/png" if picture.format == "PNG" else "image/jpeg"
            context["quality"], context["warnings"] = preview.warnings(camera, picture)
            context.update(
                picture=picture,
                size_kb=round(len(picture.data) / 1024, 1),
                data_uri=f"data:{mime};base64,{base64.b64encode(picture.data).decode()}",
            )
        return TemplateResponse(request, "cameras/test_connection.html", context)

    def capture_now_view(self, request: HttpRequest, camera_id: int) -> HttpResponse:
        """Capture synchronously (POST only; a GET just goes back to the camera)."""
        from captures.ingest import capture

        camera = self._camera_or_deny(request, camera_id, "capture-now")
        if request.method == "POST":
            outcome = capture(camera)
            if outcome.ok:
                messages.success(
                    request, f"Captured image {outcome.image.pk} ({outcome.attempt.duration_ms} ms)."
                )
            else:
                messages.error(request, f"Capture {outcome.attempt.status}: {outcome.reason}")
        return HttpResponseRedirect(reverse("admin:cameras_camera_change", args=[camera.pk]))

    def render_now_view(self, request: HttpRequest, camera_id: int) -> HttpResponse:
        """Queue a render of the camera's images (its continuous video when it has one)."""
        from batches.models import TimelapseBatch
        from batches.selection import SelectionError
        from batches.services import render_now

        camera = self._camera_or_deny(request, camera_id, "render-now")
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:cameras_camera_change", args=[camera.pk]))
        batch_type = (
            TimelapseBatch.BatchType.CONTINUOUS
            if camera.continuous_mode != Camera.ContinuousMode.OFF
            else TimelapseBatch.BatchType.MANUAL
        )
        try:
            batch = render_now(camera, batch_type=batch_type)
        except SelectionError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("admin:cameras_camera_change", args=[camera.pk]))
        messages.success(request, f"Batch {batch.pk} is queued for rendering.")
        return HttpResponseRedirect(reverse("admin:batches_timelapsebatch_change", args=[batch.pk]))

    def import_images_view(self, request: HttpRequest, camera_id: int) -> HttpResponse:
        """`manage.py importimages` from the camera page, limited to TIMELAPSER_IMPORT_DIRS."""
        from captures.importing import ImportRefused, allowed_roots, checked_folder, import_folder

        camera = self._camera_or_deny(request, camera_id, "import-images")
        roots = allowed_roots()
        form = ImportForm(
            request.POST if request.method == "POST" else None,
            initial={"folder": str(roots[0]) if roots else ""},
        )
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                folder = checked_folder(form.cleaned_data["folder"], roots)
            except ImportRefused as exc:
                form.add_error("folder", str(exc))
            else:
                # In the request, with a time budget under gunicorn's 30 s: a big folder
                # is finished by submitting again (what is in already is skipped).
                report = import_folder(camera, folder, roots, seconds=IMPORT_REQUEST_SECONDS)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "camera": camera,
            "title": f"Import images: {camera.name}",
            "form": form,
            "roots": roots,
            "report": report,
            "failures": report.failures[:IMPORT_FAILURES_SHOWN] if report else [],
            "budget_seconds": IMPORT_REQUEST_SECONDS,
        }
        return TemplateResponse(request, "cameras/import_images.html", context)

    @admin.action(description="Preview a cleanup of the selected cameras", permissions=["cleanup"])
    def preview_cleanup(self, request: HttpRequest, queryset) -> HttpResponse:
        from operations.maintenance_views import start_preview

        return start_preview(sorted(queryset.values_list("name", flat=True)))

    def has_cleanup_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("captures.delete_image")
