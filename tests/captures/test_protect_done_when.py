"""Issue 12's "done when", as one operator's path through the admin against the fake console:
enter the address and key, see the list, add two cameras, get full-resolution frames from the one
whose snapshot is capped, see the offline one as offline, fill a day's gap from recordings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase
from django.urls import reverse

from cameras.models import Camera
from captures import protect
from captures.fakecamera import self_signed_cert
from captures.fakeprotect import FULL_HD, LOCAL_USER, FakeProtectConsole
from captures.models import BackfillRun, CaptureAttempt, Image
from captures.tasks import capture_camera
from tests.captures.test_protect_admin import API_KEY, admin_client, connect, console_form  # noqa: F401

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def console(tmp_path, settings):
    settings.TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE = 20
    tls = self_signed_cert(tmp_path)
    protect._stream_urls.clear()
    with FakeProtectConsole(api_key=API_KEY, tls=tls, stream_tls=tls) as server:
        yield server


def run_task(camera: Camera) -> str:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return capture_camera(camera.pk)


def test_connect_add_two_capture_full_resolution_see_offline_and_fill_a_day(
    admin_client,  # noqa: F811
    console,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    saved = connect(admin_client, console)  # address + key, certificate pinned on first use
    cameras_url = reverse("admin:cameras_protectconsole_cameras", args=[saved.pk])
    listing = admin_client.get(cameras_url).content.decode()
    assert "Garden" in listing and "Garage" in listing
    garden_id, garage_id = console.camera_ids[1], console.camera_ids[3]
    admin_client.post(cameras_url, {"camera": [garden_id, garage_id]})
    garden, garage = Camera.objects.get(name="Garden"), Camera.objects.get(name="Garage")

    # Garden's snapshot is capped (G3 Instant): auto mode takes the high-quality stream's frame.
    assert run_task(garden) == "ok"
    frame = Image.objects.get(camera=garden)
    assert (frame.width, frame.height) == FULL_HD and frame.processing_metadata["source"] == "protect-stream"

    # Garage is DISCONNECTED: the attempt and the dashboard say offline.
    assert run_task(garage) == "failed"
    assert CaptureAttempt.objects.get(camera=garage).error_message.startswith("Camera offline")
    dashboard = admin_client.get("/admin/dashboard/").content.decode()
    assert f'class="tl-card tl-status-offline" data-camera="{garage.pk}"' in dashboard

    # A day's gap, filled from recordings with the local user set on the console page.
    change = admin_client.post(
        reverse("admin:cameras_protectconsole_change", args=[saved.pk]),
        console_form(
            console.address(),
            api_key="",
            certificate_sha256=saved.certificate_sha256,
            local_username=LOCAL_USER[0],
            local_password=LOCAL_USER[1],
        ),
    )
    assert change.status_code == 302, change.context["adminform"].form.errors
    # Hourly, so the day is 24 recording requests and the test stays short.
    Camera.objects.filter(pk=garden.pk).update(capture_interval_seconds=3600)
    garden.refresh_from_db()
    start_url = reverse("admin:captures_backfillrun_start", args=[garden.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(start_url, {"first_day": "2026-11-01", "last_day": "2026-11-01"})
    run = BackfillRun.objects.get()
    assert response["Location"] == reverse("admin:captures_backfillrun_progress", args=[run.pk])
    slots = 24 * 3600 // garden.capture_interval_seconds
    assert (run.state, run.slots_total, run.slots_filled) == ("done", slots, slots), run.error
    day = Image.objects.filter(camera=garden, captured_at__gte=DAY, captured_at__lt=DAY + timedelta(days=1))
    assert day.filter(processing_metadata__backfilled=True).count() == slots
