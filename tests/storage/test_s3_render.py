"""A render worker with media in the bucket: frames are read from it, the video is written back."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from batches import ffmpeg, render
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch
from tests.batches.conftest import PALETTE, SIZE, nearest, region_mean
from tests.factories import make_camera

pytestmark = pytest.mark.django_db


def test_render_reads_frames_from_the_bucket_and_writes_the_video_back(
    s3_media, add_frame, data_dir, tmp_path
):
    camera = make_camera(timezone="UTC")
    start = timezone.now().replace(microsecond=0) - timedelta(days=3)
    order = [2, 0, 3, 1]
    images = [add_frame(camera, start + timedelta(minutes=10 * i), PALETTE[i]) for i in order]
    for image in images:  # into the bucket, and gone from the disk: only the bucket has them
        s3_media.put(image.file_path, (data_dir / image.file_path).read_bytes())
    s3_media.put(images[-1].file_path, b"not the stored bytes")  # a corrupt object is dropped
    shutil.rmtree(data_dir / "images")

    batch = render.render_batch(create_batch(camera, Selection(fps=10)).pk)

    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    recorded = images[-1].file_size_bytes
    assert [d["reason"] for d in batch.dropped_frames] == [
        f"size mismatch (20 bytes on disk, {recorded} recorded)"
    ]
    assert f"site/{batch.published_path}" in s3_media.listing()
    assert not (data_dir / batch.published_path).exists(), "the video lives in the bucket only"
    local = tmp_path / "out.mp4"
    local.write_bytes(s3_media.get(batch.published_path))
    assert batch.published_size_bytes == local.stat().st_size
    frames = ffmpeg.decode_frames(local)
    assert [nearest(region_mean(f, SIZE, (100, 80, 220, 160))) for f in frames] == [0, 2, 3]
    assert not list((data_dir / "tmp").glob("render-*")), "downloaded frames are removed with the work folder"
