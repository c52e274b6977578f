"""The Protect console admin: connect once (key write-only, certificate pinned on first use), then add cameras.

Registered from captures/admin.py; the console is a cameras model, its client lives here in captures.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from cameras.models import ProtectConsole
from cameras.services import CameraError, normalise_console_address, normalise_fingerprint, save_console
from captures import discovery, protect
from captures.sources import CaptureError

WRITE_ONLY = "Write-only: never shown again. Leave empty to keep the current value."


class ConsoleForm(forms.ModelForm):
    address = forms.CharField(
        help_text="https://CONSOLE[:PORT], e.g. https://192.168.1.1 for a UniFi Cloud Key or Dream Machine."
    )
    api_key = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 50}),
        help_text="UniFi OS: Settings > Control Plane > Integrations > Create API key. " + WRITE_ONLY,
    )
    local_username = forms.CharField(
        label="Local user (recordings)",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Only for filling gaps from recordings: a local console user, not a UI.com account.",
    )
    local_password = forms.CharField(
        label="Local user's password",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=WRITE_ONLY,
    )

    class Meta:
        model = ProtectConsole
        fields = ["name", "address", "verify_tls", "certificate_sha256"]
        labels = {
            "certificate_sha256": "Pinned certificate (SHA-256)",
            "verify_tls": "Verify the certificate (TLS)",
        }
        help_texts = {
            "certificate_sha256": "Trust on first use: leave empty and save; if the certificate is "
            "self-signed this page shows its fingerprint to compare with the console's and pin.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            # Read-only on the change page (it is the console's identity), so never posted there.
            data["address"] = self.instance.address
        try:
            address = normalise_console_address(data.get("address", ""))
            pin = normalise_fingerprint(data.get("certificate_sha256", ""))
        except CameraError as exc:
            raise forms.ValidationError(str(exc)) from None
        data["address"], data["certificate_sha256"] = address, pin
        api_key = data.get("api_key", "")
        if not self.instance.pk and not api_key:
            self.add_error("api_key", "A new console needs its API key.")
            return data
        if not api_key:
            api_key = protect.access_for(self.instance).api_key
        try:
            seen = protect.certificate_fingerprint(address)
        except CaptureError as exc:
            self.add_error("address", exc.reason)
            return data
        if pin and pin != seen:
            self.add_error(
                "certificate_sha256",
                f"The console presents a different certificate ({seen}). If it was renewed and you trust "
                "it, pin the new fingerprint; otherwise this may not be your console. Nothing was sent.",
            )
            return data
        access = protect.ConsoleAccess(address, api_key, data.get("verify_tls", True), pin)
        try:
            protect.meta_info(access)
        except CaptureError as exc:
            if "not trusted" in exc.reason and not pin:
                # Trust on first use: show what the console presented, pre-filled to pin.
                self.data = self.data.copy()
                self.data["certificate_sha256"] = seen
                self.add_error(
                    "certificate_sha256",
                    f"The console's certificate is self-signed. It presents SHA-256 {seen}. Compare it with "
                    "the console's (UniFi OS: Settings > Control Plane > Console); if they match, save "
                    "again to pin it. Nothing was sent to the console.",
                )
            else:
                self.add_error("api_key" if "API key" in exc.reason else None, exc.reason)
        return data


@admin.register(ProtectConsole)
class ProtectConsoleAdmin(admin.ModelAdmin):
    form = ConsoleForm
    change_form_template = "admin/cameras/protectconsole/change_form.html"
    list_display = ["name", "address", "tls", "camera_count"]
    fieldsets = [
        (None, {"fields": ["name", "address"]}),
        # Right under the address: on first use this is where the fingerprint to check appears.
        ("Certificate", {"fields": ["verify_tls", "certificate_sha256"]}),
        ("Access (write-only)", {"fields": ["api_key", "local_username", "local_password"]}),
    ]

    @admin.display(description="TLS")
    def tls(self, console: ProtectConsole) -> str:
        if console.certificate_sha256:
            return f"pinned {console.certificate_sha256[:16]}…"
        return "verified by CA" if console.verify_tls else "NOT verified"

    @admin.display(description="cameras")
    def camera_count(self, console: ProtectConsole) -> int:
        return console.cameras.count()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            console, _ = save_console(
                data["address"] if not change else obj.address,
                api_key=data.get("api_key", ""),
                name=data.get("name") or data["address"],
                verify_tls=data.get("verify_tls", True),
                fingerprint=data.get("certificate_sha256", ""),
                username=data.get("local_username", ""),
                password=data.get("local_password", ""),
            )
        except CameraError as exc:
            messages.error(request, str(exc))
            return
        obj.pk, obj.secret_ref = console.pk, console.secret_ref
        obj.refresh_from_db()

    def get_readonly_fields(self, request, obj=None):
        # The address is the console's identity: a new address is a new console.
        return ["address"] if obj is not None else []

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk and request.user.has_perm("cameras.add_camera"):
            return HttpResponseRedirect(reverse("admin:cameras_protectconsole_cameras", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def get_urls(self):
        return [
            path(
                "<int:console_id>/cameras/",
                self.admin_site.admin_view(self.cameras_view),
                name="cameras_protectconsole_cameras",
            ),
            *super().get_urls(),
        ]

    def cameras_view(self, request: HttpRequest, console_id: int) -> HttpResponse:
        """The console's cameras with checkboxes; POST adds the ticked ones (cameras.add_camera)."""
        console = get_object_or_404(ProtectConsole, pk=console_id)
        if not self.has_view_permission(request, console):
            raise PermissionDenied
        can_add = request.user.has_perm("cameras.add_camera")
        if request.method == "POST":
            if not can_add:
                raise PermissionDenied
            keys = [key for key in request.POST.getlist("camera") if key][:500]
            if not keys:
                messages.warning(request, "Tick the cameras to add first.")
            else:
                try:
                    report = discovery.add_cameras(console, keys)
                except CaptureError as exc:
                    messages.error(request, f"The console did not answer: {exc.reason}")
                else:
                    if report.added:
                        names = ", ".join(camera.name for camera in report.added)
                        messages.success(request, f"Added {len(report.added)}: {names}.")
                    for name, why in report.refused:
                        messages.error(request, f"Not added {name}: {why}")
            return HttpResponseRedirect(request.path)
        rows, error = [], None
        try:
            rows = discovery.listing(console)
        except CaptureError as exc:
            error = exc.reason
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "console": console,
            "title": f"Cameras on {console.name}",
            "rows": rows,
            "error": error,
            "can_add": can_add,
        }
        return TemplateResponse(request, "cameras/protect_cameras.html", context)
