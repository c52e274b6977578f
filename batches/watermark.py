"""A camera's watermark logo: an uploaded PNG, checked, stored under DATA_DIR/branding, drawn by the render.

The file is named by its content hash, so a new logo never overwrites the one a
render in progress is reading, and the settings digest changes with the pixels.
With media in a bucket the logo is kept there (branding/... as a key) and a render
host reads a copy cached under DATA_DIR/cache/branding: the name is the content
hash, so a cached copy never goes stale.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from django.conf import settings
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from batches.models import RenderSettings
from common import mediastore
from common.paths import media_file, media_key, relative_to_data, remove_media_file, safe_key

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096


class WatermarkError(ValueError):
    """The upload is not a usable logo; the message says why and is safe to show."""


def check_png(data: bytes) -> tuple[int, int]:
    """(width, height) of a real, decodable PNG of a sensible size; WatermarkError otherwise."""
    if len(data) > MAX_BYTES:
        raise WatermarkError(f"The logo is {len(data) // 1024} KB; at most {MAX_BYTES // 1024 // 1024} MB.")
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise WatermarkError("The logo must be a PNG file (transparency is kept).")
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            probe.verify()
        with PILImage.open(io.BytesIO(data)) as image:
            size = image.size
            if size[0] > MAX_SIDE or size[1] > MAX_SIDE:
                raise WatermarkError(f"The logo is {size[0]}x{size[1]}; at most {MAX_SIDE} pixels a side.")
            image.load()
    except WatermarkError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, PILImage.DecompressionBombError):
        raise WatermarkError("The logo is not a readable PNG image.") from None
    return size


def save_png(data: bytes, *folder: str) -> str:
    """Check this PNG and write it under DATA_DIR/branding/<folder...>; returns the stored (relative) path."""
    check_png(data)
    name = f"{hashlib.sha256(data).hexdigest()[:16]}.png"
    if mediastore.remote():
        relative = "/".join(["branding", *folder, name])
        mediastore.put(media_key(relative), data, "image/png")
        return relative
    target_dir = Path(settings.DATA_DIR).joinpath("branding", *folder)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(data)
    partial.replace(target)
    return relative_to_data(target)


def replace_file(previous: str | None, current: str | None) -> None:
    """The old logo goes once a new one (with other pixels) took its place, through the path guard."""
    if previous and previous != current:
        remove_media_file(previous)


def store(render_settings: RenderSettings, data: bytes) -> None:
    """Check and keep this PNG as the camera's logo (the row is saved by the caller)."""
    previous = render_settings.watermark_path
    render_settings.watermark_path = save_png(data, str(render_settings.camera_id))
    replace_file(previous, render_settings.watermark_path)


def remove(render_settings: RenderSettings) -> None:
    if render_settings.watermark_path:
        remove_media_file(render_settings.watermark_path)
    render_settings.watermark_path = None


def local_file(stored: str) -> Path | None:
    """The logo as a file ffmpeg can read: itself on disk, or its cached copy from the bucket.

    None when it is missing (or the stored path leaves the media folders); a bucket
    that cannot be reached raises MediaStoreError.
    """
    if not mediastore.remote():
        return media_file(stored)
    key = safe_key(stored)
    if key is None:
        return None
    cached = Path(settings.DATA_DIR) / "cache" / key
    if cached.is_file():
        return cached
    data = mediastore.read(key)
    if data is None:
        return None
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f".{cached.name}.part")
    partial.write_bytes(data)
    partial.replace(cached)
    return cached
