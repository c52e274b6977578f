"""TIMELAPSER_RENDER_THREADS reaches x264: the lean layout's renders encode with the threads it says."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from batches import render
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch
from tests.batches.conftest import PALETTE


def x264_threads(video: bytes) -> int:
    """The thread count x264 wrote into the stream's settings (its SEI: "... threads=N ...")."""
    return int(re.search(rb" threads=(\d+) ", video).group(1))


@pytest.mark.parametrize("threads", [1, 2])
def test_a_render_encodes_with_the_configured_threads(
    camera, add_frame, day_start, data_dir, settings, threads
):
    settings.TIMELAPSER_RENDER_THREADS = threads
    for i in range(3):
        add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i])

    batch = render.render_batch(create_batch(camera, Selection(fps=10)).pk)

    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    assert x264_threads((data_dir / batch.output_path).read_bytes()) == threads
