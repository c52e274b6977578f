"""File delivery for shares: HTTP Range, conditional GETs, offload (paths are checked by common.paths).

Safari and iOS refuse to play a video whose server does not answer byte ranges,
so every video and image of a share goes through `file_response`. Behind nginx,
SHARING_FILE_OFFLOAD hands the bytes to the proxy (X-Accel-Redirect / X-Sendfile)
after the share has been checked here.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import http_date, parse_http_date_safe

from common import mediastore

log = logging.getLogger(__name__)

CHUNK = 512 * 1024
# ASCII digits only: `\d` also matches other scripts' digits, which no client sends.
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
# Longer numbers are past any file's size; int() of thousands of digits is refused by
# Python (ValueError past its int-string limit) and was a 500.
_MAX_DIGITS = 18
_PAST_ANY_FILE = 10**_MAX_DIGITS


def _byte_position(digits: str) -> int:
    return int(digits) if len(digits) <= _MAX_DIGITS else _PAST_ANY_FILE


def content_disposition(filename: str) -> str:
    """RFC 6266 attachment header: an ASCII fallback plus the exact UTF-8 name."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()\-]", "_", ascii_name)
    ascii_name = re.sub(r"\s+", " ", ascii_name).strip() or "video.mp4"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(start, end) inclusive for a single byte range; None to ignore it; "unsatisfiable".

    Several ranges in one header are answered with the whole file (allowed by
    RFC 9110), which is what players cope with best.
    """
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = _byte_position(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = _byte_position(first)
    end = _byte_position(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size - 1)


def _not_modified(request: HttpRequest, etag: str, mtime: int) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and mtime <= since


def _range_still_valid(request: HttpRequest, etag: str, mtime: int) -> bool:
    """If-Range: apply the range only when the client's copy is still current."""
    if_range = request.headers.get("If-Range")
    if if_range is None:
        return True
    if if_range.startswith('"'):
        return if_range == etag
    since = parse_http_date_safe(if_range)
    return since is not None and mtime <= since


class FileSlice:
    """`length` bytes of a file from `start`, readable like a file.

    It keeps fileno() and the file's position at `start`, so gunicorn's
    wsgi.file_wrapper sends the slice with zero-copy sendfile(offset, Content-Length);
    other servers read it in chunks and never get past the slice.
    """

    def __init__(self, handle: BinaryIO, start: int, length: int) -> None:
        self._file = handle
        self._file.seek(start)
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(size)
        self._left -= len(data)
        return data

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()


def file_response(
    request: HttpRequest,
    path: Path,
    content_type: str,
    *,
    download_name: str | None = None,
    cache_control: str = "private, max-age=60",
) -> HttpResponseBase:
    """Serve `path` (already resolved inside DATA_DIR) with Range and conditional GET.

    The file is opened first and its size and ETag read from the open descriptor,
    so a response always describes the bytes it sends: when a new render is
    published under another name and the old file is removed, a response that
    has it open keeps streaming the old bytes to the end.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:  # removed since the caller looked (after its grace period)
        raise Http404("No such file") from exc
    try:
        response = _respond(request, path, handle, content_type, download_name, cache_control)
    except BaseException:
        handle.close()
        raise
    if not isinstance(response, FileResponse):
        handle.close()  # the response does not stream it (304, 416, HEAD, offload)
    return response


def _respond(
    request: HttpRequest,
    path: Path,
    handle: BinaryIO,
    content_type: str,
    download_name: str | None,
    cache_control: str,
) -> HttpResponseBase:
    stat = os.fstat(handle.fileno())
    size = stat.st_size
    mtime = int(stat.st_mtime)
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(mtime),
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
    }
    if download_name:
        headers["Content-Disposition"] = content_disposition(download_name)

    if _not_modified(request, etag, mtime):
        return HttpResponse(status=304, headers=headers)

    offload = getattr(settings, "SHARING_FILE_OFFLOAD", "")
    if offload:
        # The proxy does Range and conditional requests itself; the share was checked here.
        response = HttpResponse(content_type=content_type, headers=headers)
        if offload == "x-accel-redirect":
            relative = path.relative_to(Path(settings.DATA_DIR).resolve()).as_posix()
            response["X-Accel-Redirect"] = settings.SHARING_ACCEL_REDIRECT_PREFIX + quote(relative)
        else:
            response["X-Sendfile"] = os.fspath(path)
        return response

    byte_range = None
    range_header = request.headers.get("Range")
    if range_header and request.method in ("GET", "HEAD") and _range_still_valid(request, etag, mtime):
        byte_range = parse_range(range_header, size)
    if byte_range == "unsatisfiable":
        headers["Content-Range"] = f"bytes */{size}"
        return HttpResponse(status=416, headers=headers)

    if byte_range is None:
        start, end, status = 0, size - 1, 200
    else:
        start, end = byte_range
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = end - start + 1 if size else 0
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return StreamingHttpResponse((), status=status, content_type=content_type, headers=headers)
    response = FileResponse(
        FileSlice(handle, start, length), status=status, content_type=content_type, headers=headers
    )
    response.block_size = CHUNK
    return response


def presigned_redirect(
    key: mediastore.MediaKey | None, kind: str, *, download_name: str | None = None
) -> HttpResponseBase | None:
    """Media in a bucket: a 302 to a short-lived presigned URL, which answers Range itself.

    None when there is no such object (the caller answers its own 404); a 503 when the
    bucket cannot be asked. The URL expires in minutes (a player that pauses longer asks
    again and gets a fresh one), so the redirect is never cached.
    """
    try:
        if key is None or mediastore.size(key) is None:
            return None
        url = mediastore.presigned_url(key, download_name=download_name, content_type=kind)
    except mediastore.MediaStoreError as exc:
        log.warning("media: %s", exc)
        return HttpResponse("Media storage is unavailable; try again shortly.", status=503)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    return response
