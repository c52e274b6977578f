"""Share routes for a video's other renditions: the AV1 source and the scrub-preview sprite (WebVTT + JPEG).

Each answers exactly like the main video route: the same share checks, the same 404
for every "no", files only through the path guard (services.rendition_file).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_http_methods

from common import mediastore
from sharing import services
from sharing.serving import file_response
from sharing.views import _presigned_redirect, _visible_share, media_limit, not_found

log = logging.getLogger(__name__)

TYPES = {"av1": "video/mp4", "vtt": "text/vtt; charset=utf-8", "sprite": "image/jpeg"}


def _serve(request: HttpRequest, token: str, item: int, role: str) -> HttpResponseBase:
    share = _visible_share(request, token)
    found = services.find_item(share, item) if share else None
    if mediastore.remote():
        return _from_bucket(services.rendition_key(found.batch, role) if found else None, role)
    path = services.rendition_file(found.batch, role) if found else None
    if path is None:
        return not_found()
    return file_response(request, path, TYPES[role])


def _from_bucket(key: mediastore.MediaKey | None, role: str) -> HttpResponseBase:
    """Media in a bucket: the AV1 file and the sprite by a presigned redirect; the cues are
    served from here, because they name the sprite by a relative URL (sprite.jpg next to them)."""
    if role != "vtt":
        return _presigned_redirect(key, None, TYPES[role])
    try:
        text = mediastore.read(key) if key else None
    except mediastore.MediaStoreError as exc:
        log.warning("share previews: %s", exc)
        return HttpResponse("Media storage is unavailable; try again shortly.", status=503)
    if text is None:
        return not_found()
    return HttpResponse(text, content_type=TYPES[role])


@media_limit
@require_http_methods(["GET", "HEAD"])
def av1(request: HttpRequest, token: str, item: int) -> HttpResponseBase:
    return _serve(request, token, item, "av1")


@media_limit
@require_http_methods(["GET", "HEAD"])
def vtt(request: HttpRequest, token: str, item: int) -> HttpResponseBase:
    return _serve(request, token, item, "vtt")


@media_limit
@require_http_methods(["GET", "HEAD"])
def sprite(request: HttpRequest, token: str, item: int) -> HttpResponseBase:
    return _serve(request, token, item, "sprite")
