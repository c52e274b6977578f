"""The one guard between a stored path and the disk: every file read, served or deleted goes through it.

Rows name their files relative to DATA_DIR (`images/3/2026/05/01/x.jpg`), and a
row is data an operator or an attacker may have edited. A path is accepted
only when, with every symlink and `..` resolved, it lies inside one of the
media folders below. The rest of DATA_DIR (the database, the keys, the broker's
files) is never inside one, so no route can be made to serve or delete it.

A media folder itself may be a symlink (an operator moving `images/` onto a
bigger disk): the guard resolves the folder too and compares the two.
"""

from __future__ import annotations

import logging
import os
import posixpath
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from common import mediastore

log = logging.getLogger(__name__)

# Everything under DATA_DIR that holds media: captures, videos, continuous
# segments, generated caches (thumbnails, posters) and uploaded logos (branding).
MEDIA_FOLDERS = ("images", "videos", "segments", "cache", "branding")


class UnsafePath(ValueError):
    """A stored path that leaves the media folders (or is no path at all)."""


def _data_dir() -> Path:
    return Path(os.path.abspath(settings.DATA_DIR))  # noqa: PTH100 (no symlinks resolved: see media_roots)


def media_roots() -> list[Path]:
    """The media folders as they really are on disk (symlinks resolved)."""
    data = _data_dir()
    return [(data / folder).resolve() for folder in MEDIA_FOLDERS]


def _confined(resolved: Path, roots: list[Path]) -> bool:
    return any(resolved != root and resolved.is_relative_to(root) for root in roots)


def media_path(relative: str) -> Path:
    """The real path of a stored relative path; raises UnsafePath if it leaves the media folders.

    The file need not exist (a render names its output before writing it).
    """
    if not relative or not isinstance(relative, str) or "\x00" in relative or Path(relative).is_absolute():
        raise UnsafePath("Not a path inside the media folders.")
    try:
        resolved = (_data_dir() / relative).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise UnsafePath("Not a path inside the media folders.") from exc
    if not _confined(resolved, media_roots()):
        raise UnsafePath("Not a path inside the media folders.")
    return resolved


def media_key(relative: str) -> mediastore.MediaKey:
    """The bucket key for a stored path; raises UnsafePath exactly where media_path would.

    A bucket has no symlinks, so the check is on the name alone: normalised, it
    must lie strictly inside one of the media folders. `images/../keys/x` and
    `images` itself are refused just as they are on disk.
    """
    if not relative or not isinstance(relative, str) or "\x00" in relative or "\\" in relative:
        raise UnsafePath("Not a path inside the media folders.")
    if relative.startswith("/"):
        raise UnsafePath("Not a path inside the media folders.")
    normal = posixpath.normpath(relative)
    folder, _, rest = normal.partition("/")
    if folder not in MEDIA_FOLDERS or not rest or normal.startswith(".."):
        raise UnsafePath("Not a path inside the media folders.")
    return mediastore.MediaKey(normal)


def safe_key(relative: str | None) -> mediastore.MediaKey | None:
    """media_key, or None when the stored path is refused (like media_file)."""
    try:
        return media_key(relative or "")
    except UnsafePath:
        return None


def media_file(relative: str | None) -> Path | None:
    """The existing regular file a stored path names inside the media folders, or None."""
    try:
        path = media_path(relative or "")
    except UnsafePath:
        return None
    return path if path.is_file() else None


def relative_to_data(path: Path) -> str:
    """How a row stores a file it just wrote under DATA_DIR."""
    return str(Path(os.path.abspath(path)).relative_to(_data_dir()))  # noqa: PTH100


def remove_media_files(relative_paths: Iterable[str | None]) -> int:
    """Unlink the files these stored paths name; never anything outside the media folders.

    Runs once per image cleanup deletes (tens of thousands a second), so the
    parent directory is resolved once per directory, not per file. Unlinking the
    final component never follows it (a symlink named there is removed itself),
    so only the directories on the way can lead elsewhere. Returns how many went.
    With media in a bucket, the same paths become keys (refused ones skipped,
    logged the same way) and go in delete_objects batches of 1000.
    """
    if mediastore.remote():
        return mediastore.delete(_checked_keys(relative_paths))
    data = _data_dir()
    roots = media_roots()
    safe_dirs: dict[str, Path | None] = {}
    removed = 0
    for relative in relative_paths:
        if not relative:
            continue
        head, _, name = relative.rpartition("/")
        if not name or name in (".", "..") or "\x00" in relative or relative.startswith("/"):
            log.warning("refusing to delete a path outside the media folders")
            continue
        if head not in safe_dirs:
            try:
                parent = (data / head).resolve()
            except (OSError, RuntimeError):
                parent = None
            ok = parent is not None and (parent in roots or _confined(parent, roots))
            safe_dirs[head] = parent if ok else None
        parent = safe_dirs[head]
        if parent is None:
            log.warning("refusing to delete a path outside the media folders")
            continue
        try:
            os.unlink(parent / name)  # noqa: PTH108
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            # The row is gone already; the orphan sweep will try this file again.
            log.warning("could not delete a media file: %s", exc.strerror)
    return removed


def _checked_keys(relative_paths: Iterable[str | None]):
    for relative in relative_paths:
        if not relative:
            continue
        key = safe_key(relative)
        if key is None:
            log.warning("refusing to delete a path outside the media folders")
            continue
        yield key


def remove_media_file(relative: str | None) -> bool:
    return bool(remove_media_files([relative]))
