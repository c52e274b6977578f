"""Admin pages for what the operator otherwise does from a command: cleanup and secret rotation.

Thin views: they call the same functions as `manage.py cleanup` and `manage.py
rotatesecrets` (operations.cleanup through the maintenance tasks, cameras.secrets,
cameras.services).
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
from operations import cleanup_preview
from operations.tasks import preview_cleanup


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
    """POST "preview": queue a dry run and wait for it (?token=...); POST: queue the real run.

    Both run on the maintenance worker: at millions of images either takes longer
    than a web request may (see operations/cleanup_preview.py). A GET only shows
    the form and a preview already asked for: it never queues work.
    """
    _require(request, "captures.delete_image")
    form = CleanupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        names = _names(form)
        if "preview" in request.POST:
            return start_preview(names)
        from operations.tasks import nightly_cleanup

        nightly_cleanup.delay(names or None)
        messages.success(
            request,
            f"Cleanup queued for {', '.join(names) if names else 'every camera'}; "
            "it runs on the maintenance worker in the background.",
        )
        return HttpResponseRedirect(reverse("ops:dashboard"))

    token = request.GET.get("token", "")
    token = token if cleanup_preview.is_token(token) else ""
    preview = cleanup_preview.load_preview(token) if token else None
    chosen = Camera.objects.filter(name__in=preview["cameras"]) if preview else Camera.objects.none()
    context = {
        **admin.site.each_context(request),
        "title": "Run cleanup now",
        "form": form if form.is_bound else CleanupForm(initial={"cameras": chosen}),
        "waiting": bool(token) and preview is None,
        "preview": preview,
        "last_run": cleanup_preview.load_last_run(),
        "chosen": chosen,
    }
    return TemplateResponse(request, "operations/cleanup.html", context)


def start_preview(camera_names: list[str]) -> HttpResponseRedirect:
    """Queue a dry run for these cameras (none: all) and send the operator to wait for it.

    Only ever called from a POST (this page's Preview button, the camera list's action).
    """
    token = cleanup_preview.new_token()
    preview_cleanup.delay(camera_names, token)
    return HttpResponseRedirect(f"{reverse('ops:cleanup')}?token={token}")


def _names(form: CleanupForm) -> list[str]:
    return sorted(camera.name for camera in form.cleaned_data["cameras"])


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
    return TemplateResponse(request, "operations/rotate_secrets.html", context)
