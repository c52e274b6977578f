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

    def make(
        camera=None,
        frames: int = 3,
        batch_type=TimelapseBatch.BatchType.MANUAL,
        times=None,
        pictures=None,
        **fields,
    ):
        """`times` (datetimes) and `pictures` (JPEG bytes), if given, are per frame."""
        camera = camera or make_camera()
        start = timezone.now() - timedelta(days=2)
        times = times or [start + timedelta(minutes=10 * i) for i in range(frames)]
        images = []
        for i, captured_at in enumerate(times):
            image = make_image(camera, captured_at=captured_at, width=320, height=240)
            target = data_dir / image.file_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(pictures[i] if pictures else jpeg_bytes)
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


def solid_jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (320, 240), colour).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# Before/after: red pictures on the first day, green on the middle one, blue on the last.
DAY_COLOURS = [(200, 30, 30), (30, 160, 60), (30, 60, 200)]


@pytest.fixture
def make_compare_share(make_video_batch):
    """An info page with the before/after slider over a three-day batch (UTC camera).

    Each day has a picture at 09:00 and one at 12:30 (nearest noon, so the one shown);
    the 09:00 one is grey so a test can tell which was picked.
    """
    from sharing.models import Share, ShareCustomization
    from tests.factories import make_share

    def make(**options):
        first = (timezone.now() - timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
        times, pictures = [], []
        for day, colour in enumerate(DAY_COLOURS):
            for hour, minute, fill in ((9, 0, (128, 128, 128)), (12, 30, colour)):
                times.append(first + timedelta(days=day, hours=hour, minutes=minute))
                pictures.append(solid_jpeg(fill))
        batch = make_video_batch(times=times, pictures=pictures)
        share = make_share([batch], title="Tower crane", share_type=Share.ShareType.INFO_PAGE)
        ShareCustomization.objects.create(share=share, display_options={"before_after": True, **options})
        return share, [t.date() for t in times[::2]]

    return make
