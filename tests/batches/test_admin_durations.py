"""The batch page says which figure is render time and which is the video's length."""

from __future__ import annotations

import pytest

from batches.models import TimelapseBatch
from cameras.models import Camera

pytestmark = pytest.mark.django_db


def test_batch_page_labels_render_time_and_video_length(admin_client):
    camera = Camera.objects.create(name="crane", url_hash="c" * 64)
    batch = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                          status="completed", total_frames=300, frames_done=300,
                                          frame_rate=30, duration_seconds=42.5)  # fmt: skip
    page = admin_client.get(f"/admin/batches/timelapsebatch/{batch.pk}/change/").content.decode()
    assert "Render time" in page and "42.5 s to render" in page
    assert "Video length" in page and "10.0 s of video (300 frames at 30 fps)" in page
    assert "Duration seconds" not in page
