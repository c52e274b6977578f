"""The New timelapse flow without a browser: preview writes nothing, render queues the same frames; permission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from batches.models import TimelapseBatch

URL = reverse("admin:batches_timelapsebatch_new")


@pytest.fixture
def frames(camera, add_frame, day_start):
    return [add_frame(camera, day_start + timedelta(days=d, hours=8 + n), quality_score=20 + 30 * (n % 3))
            for d in range(3) for n in range(6)]  # fmt: skip


def form(camera, **fields):
    return {"camera": camera.pk, "frames": "all", "length": "fps", "fps": "10", **fields}


def test_preview_counts_and_writes_nothing_then_render_makes_those_frames(admin_client, camera, frames):
    data = form(camera, min_quality="50", time_from="09:00", time_to="13:00", preview="1")
    page = admin_client.post(URL, data).content.decode()
    # Hours 09-12 of each day, quality 50 or 80 only: n = 1, 2, 4 -> 3 a day, 9 in all.
    assert "9 frames</strong> at 10 fps" in page and "0.9 s of video" in page
    assert page.count('class="tl-preview-thumbs"') == 1 and page.count("<figure>") == 3
    assert not TimelapseBatch.objects.exists()
    response = admin_client.post(URL, {**data, "render": "1"})
    batch = TimelapseBatch.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/{batch.pk}/change/")
    assert batch.total_frames == 9 and batch.status == TimelapseBatch.Status.PENDING
    assert [
        f.image.quality_score for f in batch.frames.select_related("image").order_by("sequence_order")
    ] == [50, 80, 50] * 3


def test_frames_per_day_and_a_target_length_pick_the_frame_rate(admin_client, camera, frames):
    data = form(
        camera, frames="per_day", frames_per_day="2", length="seconds", target_seconds="3", preview="1"
    )
    page = admin_client.post(URL, data).content.decode()
    assert "6 frames</strong> at 2 fps" in page and "3.0 s of video" in page


def test_bad_input_is_said_next_to_its_field(admin_client, camera, frames):
    page = admin_client.post(URL, form(camera, frames="per_day", date_from="2030-01-02", date_to="2030-01-01",
                                       time_from="08:00", preview="1")).content.decode()  # fmt: skip
    assert "How many frames a day?" in page and "The last day is before the first." in page
    assert "Give both times of day" in page
    page = admin_client.post(URL, form(camera, date_from="2030-01-01", preview="1")).content.decode()
    assert "No pictures of" in page


def test_the_flow_needs_the_add_batch_permission(client, django_user_model, camera):
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(URL).status_code == 403
