"""A render's ffmpeg keeps to the task time limit itself: the lean layout's solo render pool does not enforce it."""

from __future__ import annotations

import pytest

from batches import ffmpeg


def test_ffmpeg_running_past_the_task_time_limit_is_stopped_with_a_readable_error(settings, tmp_path):
    """GIVEN a task time limit of 1 s WHEN ffmpeg encodes an endless test source THEN it is killed
    and the render fails with a message that says why, instead of holding the worker forever."""
    settings.CELERY_TASK_TIME_LIMIT = 1
    endless = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-c:v", "libx264", "-f", "null", "-"]

    with pytest.raises(ffmpeg.RenderError, match="longer than the 1 s time limit"):
        ffmpeg._run(endless, tmp_path)
