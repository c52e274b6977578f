"""Derived files a share page needs: video poster frames and video size.

Posters are made once and cached under DATA_DIR/cache/sharing, keyed by what
they were made from, and written atomically so two workers racing on the first
request never serve a half-written file. (Gallery thumbnails come from
captures.thumbnails, like every other thumbnail.)
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import struct
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
from django.conf import settings

log = logging.getLogger(__name__)


def cache_dir(kind: str) -> Path:
    path = Path(settings.DATA_DIR) / "cache" / "sharing" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def _atomic_write(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(fd)
    try:
        write(Path(tmp))
        Path(tmp).replace(target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def poster(video: Path, batch_id: int) -> Path | None:
    """A JPEG of the video's first frame (og:image, <video poster>), or None if ffmpeg fails."""
    stat = video.stat()
    target = cache_dir("posters") / f"{batch_id}-{stat.st_mtime_ns:x}.jpg"
    if target.exists():
        return target
    return _first_frame(os.fspath(video), target, batch_id)


def bucket_poster(key: str, url_for, batch_id: int) -> Path | None:
    """poster() for a video in the media bucket: ffmpeg reads the first frame over a presigned URL.

    Each render publishes under a new key, so the key names the cache entry; the
    URL is made only on a cache miss (`url_for`), and is never logged.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    target = cache_dir("posters") / f"{batch_id}-{digest}.jpg"
    if target.exists():
        return target
    return _first_frame(url_for(), target, batch_id)


def _first_frame(source: str, target: Path, batch_id: int) -> Path | None:
    """ffmpeg writes `source`'s first frame to `target` (atomically); None when it cannot."""

    def write(tmp: Path) -> None:
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", source,
             "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", os.fspath(tmp)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    try:
        _atomic_write(target, write)
    except (subprocess.SubprocessError, OSError) as exc:
        log.warning("poster frame for batch %s failed: %s", batch_id, type(exc).__name__)
        return None
    return target


def video_size(video: Path) -> tuple[int, int] | None:
    """(width, height) of an MP4's first video track, read from its tkhd box.

    Cached in the process, keyed by the file's identity: a re-rendered file gets
    a new mtime, so a stale size is never used, and a page of several videos
    costs a stat per video instead of a cache round trip.
    """
    try:
        stat = video.stat()
    except OSError:
        return None
    return _cached_size(video, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1024)
def _cached_size(video: Path, mtime_ns: int, size: int) -> tuple[int, int] | None:
    try:
        return _mp4_size(video)
    except (OSError, struct.error):
        return None


def _boxes(fh, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        size, kind = struct.unpack(">I4s", fh.read(8))
        header = 8
        if size == 1:
            size = struct.unpack(">Q", fh.read(8))[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, pos + size
        pos += size


def _mp4_size(video: Path) -> tuple[int, int] | None:
    with video.open("rb") as fh:
        end = video.stat().st_size
        for kind, body, box_end in _boxes(fh, 0, end):
            if kind != b"moov":
                continue
            for trak_kind, trak_body, trak_end in _boxes(fh, body, box_end):
                if trak_kind != b"trak":
                    continue
                for sub, _sub_body, sub_end in _boxes(fh, trak_body, trak_end):
                    if sub != b"tkhd":
                        continue
                    # width and height are the last 8 bytes, 16.16 fixed point.
                    fh.seek(sub_end - 8)
                    width, height = struct.unpack(">II", fh.read(8))
                    if width and height:
                        return width >> 16, height >> 16
    return None
