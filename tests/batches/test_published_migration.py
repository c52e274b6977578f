"""Migration 0007 makes every existing output its batch's published video, whatever the batch's status."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from batches.models import TimelapseBatch
from tests.factories import make_camera

BEFORE = [("batches", "0006_rerun_after_cameras_rebuild")]


@pytest.mark.django_db(transaction=True)
def test_existing_outputs_become_published_including_a_batch_rendering_again():
    camera = make_camera()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("batches", "TimelapseBatch")
    started = timezone.now()
    common = {"camera_id": camera.pk, "batch_type": "continuous", "generation_mode": "periodic"}
    done = old.objects.create(
        **common, status="completed", output_path="videos/1/a.mp4", file_size_bytes=123, total_frames=9,
        day_overlay_applied=True, day_range_start=1, day_range_end=4, completed_at=started,
    )  # fmt: skip
    # Re-rendering: claim() cleared completed_at, the last video is still there.
    again = old.objects.create(
        **common, status="processing", output_path="videos/1/b.mp4", file_size_bytes=7, started_at=started
    )
    never = old.objects.create(**common, status="pending")

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    done, again, never = (TimelapseBatch.objects.get(pk=b.pk) for b in (done, again, never))
    assert (done.published_path, done.published_size_bytes, done.published_at) == (
        "videos/1/a.mp4",
        123,
        started,
    )
    assert (done.published_frames, done.published_day_overlay) == (9, True)
    assert (done.published_day_range_start, done.published_day_range_end) == (1, 4)
    assert (again.published_path, again.published_at) == ("videos/1/b.mp4", started)
    assert never.published_path is None and never.published_at is None
