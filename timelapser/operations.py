"""Admin pages for what the operator otherwise does from a command: cleanup and secret rotation.

Thin views: they call the same functions as `manage.py cleanup` and `manage.py
rotatesecrets` (captures.cleanup, cameras.secrets, cameras.services).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cameras import secrets
from cameras.models import Camera
from cameras.services import rehash_all
from captures.cleanup import CleanupBusy, run_cleanup


class CleanupForm(forms.Form):
    cameras = forms.ModelMultipleChoiceField(
        queryset=Camera.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every camera, plus orphan files, old capture attempts and superseded videos.",
    )


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@staff_member_required
def cleanup(request: HttpRequest) -> HttpResponse:
    """GET: the form, and with ?preview=1 a dry run per camera. POST: queue the real run."""
    _require(request, "captures.delete_image")
    form = CleanupForm(request.POST if request.method == "POST" else request.GET or None)
    names = sorted(camera.name for camera in form.cleaned_data["cameras"]) if form.is_valid() else []
    if request.method == "POST" and form.is_valid():
        from timelapser.tasks import nightly_cleanup

        # On the maintenance queue like the nightly run: a big cleanup takes minutes,
        # longer than a web request may, and one lock keeps it to one run at a time.
        nightly_cleanup.delay(names or None)
        messages.success(
            request,
            f"Cleanup queued for {', '.join(names) if names else 'every camera'}; "
            "it runs on the maintenance worker in the background.",
        )
        return HttpResponseRedirect(reverse("ops:dashboard"))

    report = busy = None
    if request.GET.get("preview") and form.is_valid():
        try:
            report = run_cleanup(dry_run=True, camera_names=names or None)
        except CleanupBusy:
            busy = True
    context = {
        **admin.site.each_context(request),
        "title": "Run cleanup now",
        "form": form,
        "report": report,
        "busy": busy,
        "whole_install": not names,
    }
    return TemplateResponse(request, "timelapser/cleanup.html", context)


class RotateSecretsForm(forms.Form):
    rehash = forms.BooleanField(
        required=False,
        label="Also recompute the URL hashes",
        help_text="Only needed after SECRET_KEY changed (duplicate-camera checks use them).",
    )


@require_http_methods(["GET", "POST"])
@staff_member_required
def rotate_secrets(request: HttpRequest) -> HttpResponse:
    """Re-encrypt the camera secrets file under the newest TIMELAPSER_SECRETS_KEY; shows counts only."""
    _require(request, "cameras.rotate_secrets")
    # Bound on every POST: an empty one (box unticked) is still a submission.
    form = RotateSecretsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            count = secrets.rotate()
        except secrets.SecretError as exc:
            # SecretError messages name keys and files, never a secret (cameras/secrets.py).
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Re-encrypted {count} camera secret(s) under the newest key.")
            if form.cleaned_data["rehash"]:
                messages.success(request, f"Recomputed {rehash_all()} URL hash(es).")
        return HttpResponseRedirect(reverse("ops:rotate-secrets"))
    context = {
        **admin.site.each_context(request),
        "title": "Rotate the secrets key",
        "form": form,
        "key_count": len(settings.TIMELAPSER_SECRETS_KEYS),
    }
    return TemplateResponse(request, "timelapser/rotate_secrets.html", context)
