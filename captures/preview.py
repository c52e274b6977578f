"""What the camera page's "Test connection" says about a picture that did arrive.

A camera that answers can still be useless: dark, blank, blurred, or stuck on one frame.
The judgement is the capture-time quality score's (captures.imaging.quality, the flags
renders and best-frame selection use too); "frozen" compares with the camera's last
stored picture, by bytes and by thumbnail (imaging.same_picture, the best-frame rule).
"""

from __future__ import annotations

import hashlib

from captures import imaging
from captures.models import Image
from captures.sources import CaptureError
from common.paths import media_file


def _frozen(camera, picture: imaging.Picture) -> bool:
    last = Image.objects.filter(camera=camera).order_by("-captured_at").only("file_path", "file_hash").first()
    if last is None:
        return False
    if last.file_hash and last.file_hash == hashlib.sha256(picture.data).hexdigest():
        return True
    path = media_file(last.file_path)
    if path is None or picture.gray is None:
        return False
    try:
        return imaging.same_picture(picture.gray, imaging.gray_thumbnail(path))
    except CaptureError:
        return False


def warnings(camera, picture: imaging.Picture) -> tuple[int, list[str]]:
    """(quality score 0-100, the sentences to show); no sentences for a good picture."""
    if picture.gray is None:
        return 100, []
    score, info = imaging.quality(picture.gray, frozen=_frozen(camera, picture))
    return score, [imaging.FLAG_WARNINGS[flag] for flag in info["flags"] if flag in imaging.FLAG_WARNINGS]
