"""The batch admin: progress while rendering, reasons for failures, retry, and the player."""

from __future__ import annotations

import json
from datetime import timedelta

from django.urls import reverse

from batches import render, services
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch
from tests.batches.conftest import PALETTE

Status = TimelapseBatch.Status


def test_changelist_shows_progress_and_failure_reasons(admin_client, camera):
    TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                  status=Status.PROCESSING, total_frames=200, frames_done=50)  # fmt: skip
    TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                  status=Status.FAILED, error_message="ffmpeg failed: No space left on device")  # fmt: skip

    page = admin_client.get(reverse("admin:batches_timelapsebatch_changelist")).content.decode()

    assert '<progress class="batch-progress" max="100" value="25"' in page
    assert "50 / 200" in page
    assert "No space left on device" in page
    assert "batches/progress.js" in page


def test_progress_endpoint_reports_frames_for_staff_only(admin_client, client, camera):
    batch = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                          status=Status.PROCESSING, total_frames=40, frames_done=10)  # fmt: skip
    url = reverse("admin:batches_timelapsebatch_progress", args=[batch.pk])

    data = json.loads(admin_client.get(url).content)

    assert data == {
        "status": "processing",
        "frames_done": 10,
        "total_frames": 40,
        "percent": 25,
        "error_message": "",
    }
    assert client.get(url).status_code == 302, "anonymous users are sent to the login page"


def test_retry_action_requeues_failed_batches_only(admin_client, camera, django_capture_on_commit_callbacks):
    failed = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                           status=Status.FAILED, attempts=3, error_message="boom")  # fmt: skip
    done = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                         status=Status.COMPLETED)  # fmt: skip

    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(
            reverse("admin:batches_timelapsebatch_changelist"),
            {"action": "retry_failed", "_selected_action": [failed.pk, done.pk]},
        )

    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.PENDING, 0)
    assert done.status == Status.COMPLETED
    assert len(queued) == 1


def test_completed_batch_page_plays_the_video(admin_client, client, camera, add_frame, day_start, data_dir):
    add_frame(camera, day_start, PALETTE[0])
    add_frame(camera, day_start + timedelta(minutes=1), PALETTE[1])
    batch = render.render_batch(create_batch(camera, Selection()).pk)

    page = admin_client.get(reverse("admin:batches_timelapsebatch_change", args=[batch.pk])).content.decode()
    video_url = reverse("admin:batches_timelapsebatch_video", args=[batch.pk])
    response = admin_client.get(video_url)

    assert f'<video controls preload="metadata" width="640" src="{video_url}">' in page
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    video_bytes = (data_dir / batch.output_path).read_bytes()
    assert b"".join(response.streaming_content) == video_bytes
    assert client.get(video_url).status_code == 302
    # The inline player can seek: byte ranges are honoured.
    partial = admin_client.get(video_url, HTTP_RANGE="bytes=0-9")
    assert partial.status_code == 206
    assert partial["Content-Range"] == f"bytes 0-9/{len(video_bytes)}"
    assert b"".join(partial.streaming_content) == video_bytes[:10]


def test_render_now_queues_a_batch_of_all_images(
    camera, add_frame, day_start, django_capture_on_commit_callbacks
):
    for i in range(3):
        add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i])

    with django_capture_on_commit_callbacks() as queued:
        batch = services.render_now(camera)

    assert batch.status == Status.PENDING and batch.total_frames == 3
    assert len(queued) == 1


def test_checkpoints_are_kept_as_their_own_batches(
    camera, add_frame, day_start, django_capture_on_commit_callbacks
):
    from batches.tasks import create_checkpoint

    add_frame(camera, day_start, PALETTE[0])

    with django_capture_on_commit_callbacks() as queued:
        batch_id = create_checkpoint(camera.pk)

    batch = TimelapseBatch.objects.get(pk=batch_id)
    assert batch.batch_type == "checkpoint" and batch.total_frames == 1 and len(queued) == 1
