"""Thumbnails of captured images, for the admin (image list, dashboard) and share galleries.

One cache layout for all of them: DATA_DIR/cache/thumbnails/<camera id>/
<image id>-<source mtime>-<W>x<H>.jpg. Made once with Pillow on first use; the
source's mtime in the name means a file replaced in place gets a fresh
thumbnail, and the per-camera folder goes with `rm -r` when a camera does.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from PIL import Image as PILImage
from PIL import ImageOps

from common import mediastore
from common.paths import media_file, safe_key

# Bounding boxes. Admin pages show 4:3 cards; a gallery wants every frame 320 wide.
CARD = (320, 240)
GALLERY = (320, 1280)


class ThumbnailUnavailable(Exception):
    """The image file is gone, unreadable, or outside the data directory."""


def image_path(image) -> Path | None:
    """The image's regular file inside the media folders, or None, whatever the row says."""
    return media_file(image.file_path)


def cache_root() -> Path:
    return Path(settings.DATA_DIR) / "cache" / "thumbnails"


def thumbnail_file(image, size: tuple[int, int] = CARD) -> Path:
    """Path of the image's thumbnail fitting `size`, made now if it is not cached yet.

    With media in a bucket the thumbnail is still cached on this host's disk (it is
    a cache: any host remakes it), keyed by the image's checksum instead of an
    mtime, and its source is downloaded once, when the thumbnail is first made.
    """
    if mediastore.remote():
        return _bucket_thumbnail(image, size)
    source = image_path(image)
    if source is None:
        raise ThumbnailUnavailable("image file missing or outside the data directory")
    cache_dir = cache_root() / str(image.camera_id)
    target = cache_dir / f"{image.pk}-{source.stat().st_mtime_ns:x}-{size[0]}x{size[1]}.jpg"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    return _make(source, target, cache_dir, size)


def _bucket_thumbnail(image, size: tuple[int, int]) -> Path:
    key = safe_key(image.file_path)
    if key is None:
        raise ThumbnailUnavailable("image file missing or outside the data directory")
    cache_dir = cache_root() / str(image.camera_id)
    target = cache_dir / f"{image.pk}-{(image.file_hash or 'nohash')[:12]}-{size[0]}x{size[1]}.jpg"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, source = tempfile.mkstemp(dir=cache_dir, suffix=".src")
    os.close(fd)
    try:
        mediastore.download(key, Path(source))
        return _make(Path(source), target, cache_dir, size)
    except mediastore.MediaStoreError as exc:
        raise ThumbnailUnavailable("image file missing or the media bucket unreachable") from exc
    finally:
        Path(source).unlink(missing_ok=True)


def _make(source: Path, target: Path, cache_dir: Path, size: tuple[int, int]) -> Path:
    # Write then rename, so two requests racing on the first view never serve half a file.
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, PILImage.open(source) as picture:
            # JPEG decodes at 1/2..1/8 scale for free; square, so a rotated frame still has enough pixels.
            picture.draft("RGB", (max(size), max(size)))
            picture = ImageOps.exif_transpose(picture)
            picture.thumbnail(size)
            picture.convert("RGB").save(out, "JPEG", quality=80)
        Path(tmp).replace(target)
    except OSError as exc:  # PIL's UnidentifiedImageError is an OSError too
        raise ThumbnailUnavailable("image file unreadable") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def sweep_stale(*, dry_run: bool = False) -> int:
    """Remove thumbnails whose image row is gone (deleted by cleanup or by hand).

    Cleanup deletes images by the ten thousand and never looks here (most images
    never get a thumbnail); this pass over the cache, which holds only images
    someone viewed, catches up. One query per camera folder, in chunks.
    Returns how many files went (or would go).
    """
    from captures.models import Image

    root = cache_root()
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir() or not folder.name.isdigit():
            continue
        by_image: dict[int, list[Path]] = {}
        for thumb in folder.glob("*.jpg"):
            image_id, _, _rest = thumb.name.partition("-")
            if image_id.isdigit():
                by_image.setdefault(int(image_id), []).append(thumb)
        ids = sorted(by_image)
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            alive = set(
                Image.objects.filter(camera_id=int(folder.name), pk__in=chunk).values_list("pk", flat=True)
            )
            for image_id in chunk:
                if image_id in alive:
                    continue
                for thumb in by_image[image_id]:
                    removed += 1
                    if not dry_run:
                        thumb.unlink(missing_ok=True)
        if not dry_run:
            # A deleted camera's folder ends empty; rmdir refuses a folder still in use.
            with contextlib.suppress(OSError):
                folder.rmdir()
    return removed
