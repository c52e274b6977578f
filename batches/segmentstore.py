"""Where a continuous video's day segments and prefix joins live when media is in a bucket.

A period video's segments (batches.segmented) are never uploaded: they stay on the render
host's disk, and remove() is how they go too, so that with a bucket the local file is not
left behind when only the (absent) key is deleted.

ffmpeg joins local files, so DATA_DIR/segments stays the render worker's working copy
either way. With a bucket (common.mediastore) each segment is uploaded once it is
written and its DaySegment row saved only after that; a worker without the local copy
(another host, a fresh disk) downloads it before the join. Without a bucket this
module is a no-op around the local files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from batches.frames import data_path
from common import mediastore
from common.paths import media_key, relative_to_data, remove_media_file


def store(local: Path) -> str:
    """A segment (or prefix) just written under DATA_DIR: uploaded when media is in a bucket."""
    relative = relative_to_data(local)
    if mediastore.remote():
        mediastore.upload(media_key(relative), local, "video/mp4")
    return relative


def present(relative: str) -> bool:
    """Whether a segment row's file can be joined. With a bucket the row is trusted: it is
    written only after the upload, and asking the bucket per day would cost a request each."""
    return mediastore.remote() or data_path(relative).is_file()


def published(relative: str | None) -> bool:
    """Whether the published video is still there (one HEAD with a bucket)."""
    if not relative:
        return False
    if mediastore.remote():
        return mediastore.size(media_key(relative)) is not None
    return data_path(relative).is_file()


def local(relative: str) -> Path:
    """The local copy to join, downloaded from the bucket when this worker has none or an old one.

    A re-encoded day keeps its name (<date>.mp4), so a copy another host left here may be
    stale: with a bucket one HEAD per joined file (2-3 per update, thanks to the prefix)
    compares sizes before the copy is trusted.
    """
    path = data_path(relative)
    if not mediastore.remote():
        return path
    if not path.is_file() or path.stat().st_size != mediastore.size(media_key(relative)):
        partial = path.with_name(f".{path.name}.download.part")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            mediastore.download(media_key(relative), partial)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
    return path


def remove(relative: str | None) -> None:
    """Both copies: the bucket's (through the path guard) and the local working copy."""
    if not relative:
        return
    remove_media_file(relative)
    if mediastore.remote():
        data_path(relative).unlink(missing_ok=True)


def drop_local_copies(relatives: Iterable[str]) -> None:
    """With a bucket, a render host's copies of segments the new prefix holds: joins read the
    prefix from now on, and a rebuild (new settings, a changed old day) downloads what it needs.
    Kept, they would fill the host's disk with a second copy of every day. Without a bucket the
    local file is the only one and stays."""
    if not mediastore.remote():
        return
    for relative in relatives:
        data_path(relative).unlink(missing_ok=True)
