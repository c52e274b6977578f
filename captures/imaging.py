"""Checking that bytes really are a picture, rotating it, and scoring it cheaply."""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from captures.sources import CaptureError

if TYPE_CHECKING:
    # numpy is imported where a picture is scored: the web and render processes import
    # this module (through the admin and the tasks) but never score one, and numpy is
    # ~20 MB of each process's memory (README, "Layouts").
    import numpy as np

MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}
ROTATIONS = {
    "left": Image.Transpose.ROTATE_90,
    "right": Image.Transpose.ROTATE_270,
    "invert": Image.Transpose.ROTATE_180,
}
# Pillow refuses absurd sizes itself (decompression bombs); this keeps a broken
# camera's 60000x60000 header from costing a gigabyte before that.
MAX_PIXELS = 100_000_000
THUMB = (64, 48)
# Mean absolute difference, in grey levels of the thumbnail, under which two pictures
# are the same one (a stuck stream or a cached snapshot), even when their bytes differ.
FROZEN_BELOW = 0.3
# What quality()'s flags mean to a person looking at a test picture.
FLAG_WARNINGS = {
    "dark": "The picture is very dark (night, a covered lens or an IR cut filter stuck).",
    "overexposed": "The picture is washed out (overexposed).",
    "blank": 'The picture is blank: one flat colour (a dead sensor or a "no signal" frame).',
    "blurry": "The picture is blurred (fog, rain on the lens, or out of focus).",
    "frozen": "The picture is the same as the camera's last stored one: the stream may be frozen.",
}


@dataclass
class Picture:
    data: bytes
    format: str
    width: int
    height: int
    exif: dict = field(default_factory=dict)
    gray: np.ndarray | None = None  # small grayscale thumbnail for the quality score


def _exif(image: Image.Image) -> dict:
    out = {}
    try:
        exif = image.getexif()
    except Exception:
        return out
    merged = dict(exif)
    with contextlib.suppress(Exception):
        merged.update(exif.get_ifd(ExifTags.IFD.Exif))
    for tag, value in merged.items():
        name = ExifTags.TAGS.get(tag)
        if not name or name in ("MakerNote", "UserComment"):
            continue
        if isinstance(value, bytes):
            continue
        # JSON columns: no NUL characters (PostgreSQL rejects them), no NaN/inf.
        if isinstance(value, str):
            out[name] = value.replace("\x00", "").strip()[:500]
        elif isinstance(value, int):
            out[name] = value
        elif isinstance(value, float) or hasattr(value, "numerator"):
            try:
                number = float(value)
            except (ZeroDivisionError, ValueError):
                continue
            if math.isfinite(number):
                out[name] = number
    return out


def decode(data: bytes, rotation: str = "none") -> Picture:
    """Validate and (if asked) rotate; CaptureError with a clear reason when it is no image.

    Checks, cheapest first: magic bytes (an HTML page sent as image/jpeg fails
    here), the JPEG end marker (truncated transfers), Pillow's verify, then a
    real downscaled decode, which catches corrupt data that verify misses.
    """
    fmt = next((name for magic, name in MAGIC.items() if data.startswith(magic)), None)
    if fmt is None:
        head = data[:64].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<")):
            raise CaptureError(
                "failed", "The camera sent a web page (HTML), not an image; check the URL or login."
            )
        if not data:
            raise CaptureError("failed", "The camera sent an empty answer instead of an image.")
        raise CaptureError("failed", "The camera's answer is not a JPEG or PNG image.")
    if fmt == "JPEG" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise CaptureError("failed", "The JPEG is truncated (no end-of-image marker).")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise CaptureError("failed", f"The image is implausibly large ({width}x{height}).")
        exif = _exif(image)
        gray = _gray_thumbnail(image)
    except CaptureError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise CaptureError(
            "failed", f"The image is corrupt and cannot be decoded ({type(exc).__name__})."
        ) from None
    if rotation in ROTATIONS:
        data, width, height, gray = _rotate(data, fmt, rotation, gray)
    return Picture(data=data, format=fmt, width=width, height=height, exif=exif, gray=gray)


def _gray_thumbnail(image: Image.Image) -> np.ndarray:
    # draft() lets libjpeg decode at 1/8 scale: the score costs little even at 4K.
    image.draft("L", (THUMB[0] * 2, THUMB[1] * 2))
    import numpy as np

    return np.asarray(image.convert("L").resize(THUMB), dtype=np.float32)


def gray_thumbnail(path: Path) -> np.ndarray:
    """The grayscale thumbnail `quality` scores, from a stored file (renders re-score picked frames)."""
    try:
        with Image.open(path) as image:
            return _gray_thumbnail(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise CaptureError("failed", f"The image cannot be decoded ({type(exc).__name__}).") from None


def _rotate(data: bytes, fmt: str, rotation: str, gray: np.ndarray) -> tuple[bytes, int, int, np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.info.get("exif")
        rotated = ImageOps.exif_transpose(image).transpose(ROTATIONS[rotation])
        out = io.BytesIO()
        if fmt == "JPEG":
            rotated.save(out, "JPEG", quality=92, **({"exif": exif} if exif else {}))
        else:
            rotated.save(out, "PNG")
    import numpy as np

    thumb = np.ascontiguousarray(np.rot90(gray, {"left": 1, "right": -1, "invert": 2}[rotation]))
    return out.getvalue(), rotated.width, rotated.height, thumb


def same_picture(gray: np.ndarray, other: np.ndarray) -> bool:
    """Whether two thumbnails show the same picture (see FROZEN_BELOW)."""
    import numpy as np

    return gray.shape == other.shape and float(np.abs(gray - other).mean()) < FROZEN_BELOW


def quality(gray: np.ndarray, frozen: bool = False) -> tuple[int, dict]:
    """A 0-100 score from a 64x48 grayscale thumbnail, and why.

    Dark (night, lens cap), blank (uniform: a dead sensor or a grey "no signal"
    frame), blurry (fog, focus) and frozen (byte for byte the picture the
    camera sent last time: a stuck stream or a cached snapshot) each cost points; renders can skip low scores.
    """
    mean = float(gray.mean())
    spread = float(gray.std())
    lap = gray[1:-1, 1:-1] * 4 - gray[:-2, 1:-1] - gray[2:, 1:-1] - gray[1:-1, :-2] - gray[1:-1, 2:]
    sharpness = float(lap.var())
    score = 100.0
    flags = []
    if mean < 40:
        score -= (40 - mean) * 1.5
        flags.append("dark")
    if mean > 235:
        score -= (mean - 235) * 2
        flags.append("overexposed")
    if spread < 6:
        score -= 60
        flags.append("blank")
    elif sharpness < 20:
        score -= 25 * (1 - sharpness / 20)
        flags.append("blurry")
    if frozen:
        score = min(score, 10)
        flags.append("frozen")
    score = int(max(0, min(100, round(score))))
    return score, {
        "mean": round(mean, 1),
        "spread": round(spread, 1),
        "sharpness": round(sharpness, 1),
        "flags": flags,
    }
