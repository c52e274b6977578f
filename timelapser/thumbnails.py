"""Small JPEG thumbnails of captured images for the admin, made once with Pillow and kept on disk."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from PIL import Image as PILImage
from PIL import ImageOps

THUMBNAIL_SIZE = (320, 240)


class ThumbnailUnavailable(Exception):
    """The image file is gone, unreadable, or outside the data directory."""


def image_file(image) -> Path:
    """The image's file under DATA_DIR; refuses paths that lead outside it."""
    data_dir = Path(settings.DATA_DIR).resolve()
    path = Path(image.file_path)
    if not path.is_absolute():
        path = data_dir / path
    path = path.resolve()
    if not path.is_relative_to(data_dir):
        raise ThumbnailUnavailable("outside the data directory")
    return path


def thumbnail_file(image) -> Path:
    """Path of the cached thumbnail, made now if missing. The cache key includes the source size,
    so an image replaced in place gets a fresh thumbnail."""
    source = image_file(image)
    try:
        stat = source.stat()
    except OSError as exc:
        raise ThumbnailUnavailable("image file missing") from exc
    cache_dir = Path(settings.DATA_DIR) / "cache" / "thumbnails" / str(image.camera_id)
    target = cache_dir / f"{image.pk}-{stat.st_size}.jpg"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        with PILImage.open(source) as picture:
            picture = ImageOps.exif_transpose(picture)
            picture.thumbnail(THUMBNAIL_SIZE)
            picture = picture.convert("RGB")
            # Write then rename, so a reader never gets half a file.
            fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                picture.save(out, "JPEG", quality=80)
    except OSError as exc:
        raise ThumbnailUnavailable("image file unreadable") from exc
    Path(tmp).replace(target)
    return target
