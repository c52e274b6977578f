"""Where media lives: the local data folder (the default) or an S3-compatible bucket.

A thin seam over django-storages' S3 backend (STORAGES["media"], set from
TIMELAPSER_MEDIA_URL by timelapser.envparse.media_storage). It speaks only in
MediaKey values, which common.paths.media_key hands out after the same check a
path gets: this module never decides what may be read or deleted, so the path
guard stays the one gate whether a file is on disk or in the bucket.

Errors from boto3 are re-raised as MediaStoreError with the S3 error code only:
a botocore message can quote the request, and the keys must never reach a log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

log = logging.getLogger(__name__)

# delete_objects takes at most 1000 keys per call (the S3 API's limit).
DELETE_BATCH = 1000


class MediaKey(str):
    """A relative media path that passed common.paths.media_key (and nothing else)."""

    __slots__ = ()


class MediaStoreError(OSError):
    """The bucket refused or could not be reached; says the S3 error code, never the request."""


def remote() -> bool:
    """True when media is kept in a bucket instead of under DATA_DIR."""
    return "media" in settings.STORAGES


def where() -> str:
    """The bucket and prefix as an operator wrote them (s3://bucket/prefix): no keys in it."""
    storage = _storage()
    return f"s3://{storage.bucket_name}/{storage.location}".rstrip("/")


def _storage():
    from django.core.files.storage import storages

    return storages["media"]


def _client():
    return _storage().connection.meta.client


def _bucket_key(key: MediaKey) -> str:
    if not isinstance(key, MediaKey):  # a raw string skipped the guard
        raise TypeError("media keys come from common.paths.media_key")
    location = _storage().location
    return f"{location}/{key}" if location else str(key)


def _wrap(exc: Exception, what: str) -> MediaStoreError:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
    return MediaStoreError(f"The media bucket could not {what} ({code}).")


def _bucket_name() -> str:
    return _storage().bucket_name


def put(key: MediaKey, data: bytes, content_type: str = "application/octet-stream") -> None:
    """Store `data` under `key`. One PUT: S3 writes are atomic, no half object is ever visible."""
    name = _bucket_key(key)  # outside the try: a raw string is a bug, not a bucket error
    try:
        _client().put_object(Bucket=_bucket_name(), Key=name, Body=data, ContentType=content_type)
    except Exception as exc:
        raise _wrap(exc, "store a file") from None


def upload(key: MediaKey, path: Path, content_type: str = "application/octet-stream") -> None:
    """Upload a local file (a rendered video) under `key`; multipart for big files (boto3 decides)."""
    try:
        _client().upload_file(
            str(path), _bucket_name(), _bucket_key(key), ExtraArgs={"ContentType": content_type}
        )
    except Exception as exc:
        raise _wrap(exc, "upload a file") from None


def download(key: MediaKey, target: Path) -> None:
    """Copy the object to a local file (render workers read frames from here)."""
    name = _bucket_key(key)
    try:
        _client().download_file(_bucket_name(), name, str(target))
    except Exception as exc:
        raise _wrap(exc, "read a file") from None


def read(key: MediaKey) -> bytes | None:
    """The object's bytes (small files: a latest image for a still-image URL), None when there is none."""
    name = _bucket_key(key)
    try:
        return _client().get_object(Bucket=_bucket_name(), Key=name)["Body"].read()
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise _wrap(exc, "read a file") from None


def size(key: MediaKey) -> int | None:
    """The object's size in bytes, or None when there is no such object."""
    name = _bucket_key(key)
    try:
        head = _client().head_object(Bucket=_bucket_name(), Key=name)
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey", "NotFound"):
            return None
        raise _wrap(exc, "look up a file") from None
    return int(head["ContentLength"])


def presigned_url(key: MediaKey, *, download_name: str | None = None, content_type: str | None = None) -> str:
    """A short-lived GET URL for the object (Range requests go straight to the bucket).

    Signed locally by botocore (no request is made); the signature, not the secret
    key, is in the URL. django-storages adds the prefix and the expiry.
    """
    if not isinstance(key, MediaKey):
        raise TypeError("media keys come from common.paths.media_key")
    params = {}
    if download_name:
        params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"
    if content_type:
        params["ResponseContentType"] = content_type
    return _storage().url(str(key), parameters=params or None)


def listing(folder: str):
    """(relative path, size, last-modified POSIX time) of every object under `folder` (e.g. "images").

    Page by page (1000 keys per ListObjectsV2 call), so memory stays flat however big
    the bucket is. The paths are relative to the prefix, as rows store them.
    """
    location = _storage().location
    prefix = f"{location}/{folder}/" if location else f"{folder}/"
    cut = len(location) + 1 if location else 0
    try:
        pages = _client().get_paginator("list_objects_v2").paginate(Bucket=_bucket_name(), Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][cut:], int(item["Size"]), item["LastModified"].timestamp()
    except Exception as exc:
        raise _wrap(exc, "list files") from None


def delete(keys: Iterable[MediaKey]) -> int:
    """Delete objects, DELETE_BATCH per delete_objects call; returns how many the bucket confirmed."""
    client, bucket = _client(), _bucket_name()
    batch: list[dict] = []
    removed = 0

    def flush() -> int:
        try:
            answer = client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": False})
        except Exception as exc:
            # The rows are gone already; an object left behind costs space, not correctness.
            log.warning("%s", _wrap(exc, "delete files"))
            return 0
        for error in answer.get("Errors", []):
            log.warning("the media bucket did not delete an object (%s)", error.get("Code"))
        return len(answer.get("Deleted", []))

    for key in keys:
        batch.append({"Key": _bucket_key(key)})
        if len(batch) == DELETE_BATCH:
            removed += flush()
            batch = []
    if batch:
        removed += flush()
    return removed
