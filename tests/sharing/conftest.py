"""Fixtures for sharing tests: real H.264 MP4s made by ffmpeg and real JPEG frames."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import imageio_ffmpeg
import pytest
from django.core.cache import cache, caches
from django.utils import timezone
from PIL import Image as PILImage

from batches.models import TimelapseBatch
from tests.factories import make_batch, make_camera, make_image


@pytest.fixture(scope="session")
def mp4_source(tmp_path_factory) -> Path:
    """A 2 s 320x240 H.264 MP4 with the moov atom first, made once per session."""
    path = tmp_path_factory.mktemp("video") / "source.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
         "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (320, 240), (40, 120, 200)).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    """Rate-limit counters live in the cache: start each test from zero, with room to work."""
    cache.clear()
    caches["sharing_pages"].clear()
    settings.SHARING_RATE_LIMIT = "10000/m"
    settings.SHARING_MEDIA_RATE_LIMIT = "10000/m"
    settings.SHARING_UNLOCK_RATE_LIMIT = "10000/m"
    settings.SITE_URL = "https://timelapse.example.org"
    # Hashing cost is not under test here; PBKDF2 at full strength costs seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield
    cache.clear()


@pytest.fixture
def make_video_batch(data_dir, mp4_source, jpeg_bytes):
    """Make a completed batch with a real MP4 and `frames` real JPEG frames under data_dir."""

    def make(camera=None, frames: int = 3, batch_type=TimelapseBatch.BatchType.MANUAL, **fields):
        camera = camera or make_camera()
        start = timezone.now() - timedelta(days=2)
        images = []
        for i in range(frames):
            image = make_image(camera, captured_at=start + timedelta(minutes=10 * i), width=320, height=240)
            target = data_dir / image.file_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(jpeg_bytes)
            images.append(image)
        batch = make_batch(camera, images, batch_type=batch_type, **fields)
        relative = f"videos/{camera.pk}/batch_{batch.pk}.mp4"
        (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mp4_source, data_dir / relative)
        size, now = (data_dir / relative).stat().st_size, timezone.now()
        fields = {
            "status": TimelapseBatch.Status.COMPLETED,
            "output_path": relative,
            "output_filename": f"batch_{batch.pk}.mp4",
            "file_size_bytes": size,
            "frame_rate": 10,
            "duration_seconds": 2.0,
            "day_range_start": 1,
            "day_range_end": 3,
            "completed_at": now,
            # What the share pages read: the 2 s source video at 10 fps is 20 frames.
            "published_path": relative,
            "published_size_bytes": size,
            "published_at": now,
            "published_frames": 20,
            "published_day_overlay": True,
            "published_day_range_start": 1,
            "published_day_range_end": 3,
        }
        TimelapseBatch.objects.filter(pk=batch.pk).update(**fields)
        batch.refresh_from_db()
        return batch

    return make
