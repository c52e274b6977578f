"""Fixtures for render tests: real JPEG frames on disk with rows that describe them truthfully."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from PIL import Image as PILImage

from captures.models import Image
from tests.factories import make_camera

# Far apart in RGB, so a decoded frame maps back to exactly one source frame.
PALETTE = [
    (220, 30, 30),
    (30, 200, 30),
    (30, 30, 220),
    (220, 220, 30),
    (30, 220, 220),
    (220, 30, 220),
    (240, 240, 240),
    (20, 20, 20),
    (240, 140, 20),
    (120, 40, 180),
    (20, 120, 100),
    (150, 150, 150),
]
SIZE = (320, 240)


def jpeg_bytes(colour, size=SIZE, draw=None) -> bytes:
    image = PILImage.new("RGB", size, colour)
    if draw:
        draw(image)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def camera(db):
    return make_camera(timezone="UTC")


@pytest.fixture
def add_frame(data_dir):
    """add_frame(camera, captured_at, colour) -> Image row with a real JPEG file behind it."""

    def add(camera, captured_at: datetime, colour=(128, 128, 128), size=SIZE, draw=None, **fields) -> Image:
        data = jpeg_bytes(colour, size, draw)
        stamp = captured_at.strftime("%Y%m%d-%H%M%S-%f")
        relative = f"images/{camera.pk}/{stamp}.jpg"
        path = data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return Image.objects.create(
            camera=camera,
            filename=path.name,
            file_path=relative,
            file_size_bytes=len(data),
            file_hash=hashlib.sha256(data).hexdigest(),
            width=size[0],
            height=size[1],
            format="JPEG",
            captured_at=captured_at,
            **fields,
        )

    return add


@pytest.fixture
def day_start():
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)


def nearest(colour, palette=PALETTE) -> int:
    return min(
        range(len(palette)), key=lambda i: sum((a - b) ** 2 for a, b in zip(colour, palette[i], strict=True))
    )


def pixel(frame: bytes, size, x: int, y: int) -> tuple[int, int, int]:
    offset = (y * size[0] + x) * 3
    return tuple(frame[offset : offset + 3])


def region_mean(frame: bytes, size, box) -> tuple[float, float, float]:
    x0, y0, x1, y1 = box
    total = [0, 0, 0]
    count = 0
    for y in range(y0, y1):
        row = (y * size[0] + x0) * 3
        chunk = frame[row : row + (x1 - x0) * 3]
        for c in range(3):
            total[c] += sum(chunk[c::3])
        count += x1 - x0
    return tuple(t / count for t in total)


def region_spread(frame: bytes, size, box, colour) -> int:
    """Largest per-channel distance from `colour` of any pixel in the box."""
    x0, y0, x1, y1 = box
    worst = 0
    for y in range(y0, y1):
        for x in range(x0, x1):
            worst = max(worst, *(abs(a - b) for a, b in zip(pixel(frame, size, x, y), colour, strict=True)))
    return worst
