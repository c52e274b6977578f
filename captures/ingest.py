"""The capture pipeline: fetch, validate, rotate, score, write safely, record the attempt.

One call of `capture()` is one attempt: it always leaves exactly one
capture_attempts row (unless the slot already has its image), and on failure
no image row and no file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from cameras import secrets
from cameras.models import Camera
from captures import dbwait, imaging, protect, sources
from captures.models import CaptureAttempt, Image
from captures.signals import capture_failed, image_captured
from captures.sources import CaptureError
from common import mediastore
from common.paths import media_key, remove_media_file

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    attempt: CaptureAttempt | None
    image: Image | None
    # True when the slot already had its image (a retried task): nothing was done.
    already_done: bool = False
    # True when the database stayed unreachable: the picture was not kept and no
    # attempt row could be written (the attempts table is in that database).
    dropped: bool = False

    @property
    def ok(self) -> bool:
        return self.image is not None

    @property
    def reason(self) -> str:
        if self.attempt is not None and self.attempt.error_message:
            return self.attempt.error_message
        return "ok"


def image_relpath(camera: Camera, captured_at: datetime, fmt: str) -> Path:
    """images/<camera id>/<YYYY>/<MM>/<DD>/<UTC timestamp>.<ext>.

    UTC, because local clocks repeat an hour each autumn and two files would
    share a name; the camera id, because names change and may hold any character.
    """
    utc = captured_at.astimezone(UTC)
    name = f"{utc:%Y%m%dT%H%M%S}_{utc:%f}Z.{imaging.EXTENSIONS[fmt]}"
    return Path("images") / str(camera.pk) / f"{utc:%Y}" / f"{utc:%m}" / f"{utc:%d}" / name


_CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


def write_atomically(path: Path, data: bytes) -> None:
    """Temp name, write, fsync, rename: a crash or a full disk never leaves a half file
    under a real name, and a failed write removes its temp file."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(tmp, flags, 0o640)
    except FileNotFoundError:
        # The day's first picture: make its folder (not tried on every capture).
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, flags, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if path.exists():
            raise FileExistsError("an image with this timestamp already exists")
        tmp.rename(path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise


# The look-ups every capture makes, as plain SQL: building them through the ORM
# cost more CPU than the rest of the capture's queries (measured with
# bench/ingest.py). Served by idx_images_camera_captured and the unique
# (camera_id, capture_slot).
_PREVIOUS_HASH_SQL = "SELECT file_hash FROM images WHERE camera_id = %s ORDER BY captured_at DESC LIMIT 1"


def _previous_hash(camera: Camera) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(_PREVIOUS_HASH_SQL, [camera.pk])
        row = cursor.fetchone()
    return row[0] if row else None


def _slot_image_and_previous_hash(camera: Camera, slot: datetime | None) -> tuple[int | None, str | None]:
    """The image already stored for `slot` (if any) and the camera's latest file hash, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT id FROM images WHERE camera_id = %s AND capture_slot = %s), "
            f"({_PREVIOUS_HASH_SQL})",
            # As the ORM would store it (SQLite keeps naive UTC text).
            [camera.pk, connection.ops.adapt_datetimefield_value(slot), camera.pk],
        )
        return cursor.fetchone()


# One statement stores a successful capture on PostgreSQL: the image, its attempt
# and the camera's health, atomic without BEGIN/COMMIT round trips. Through the ORM
# (a transaction, three statements) this cost ~1 ms of worker CPU per capture,
# six times as much. RETURNING hands back what the trigger computed (day_number)
# and whether the camera was reported down, so the "back up" notice needs no query.
_STORE_SUCCESS_SQL = """
WITH image AS (
    INSERT INTO images (camera_id, filename, file_path, file_size_bytes, width, height, format,
                        quality_score, file_hash, captured_at, processing_metadata, capture_slot, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)
    RETURNING id, day_number
), attempt AS (
    INSERT INTO capture_attempts (camera_id, attempted_at, status, image_id, duration_ms, retry_count)
    SELECT %s, %s, %s, id, %s, %s FROM image
    RETURNING id
), camera AS (
    UPDATE cameras SET connection_failures = 0, offline_since = NULL, last_health_check = %s WHERE id = %s
    RETURNING down_notified_at
)
SELECT image.id, image.day_number, (SELECT id FROM attempt), (SELECT down_notified_at FROM camera)
FROM image
"""


def _insert_success_postgresql(camera: Camera, image: Image, attempt: CaptureAttempt) -> None:
    params = [
        camera.pk,
        image.filename,
        image.file_path,
        image.file_size_bytes,
        image.width,
        image.height,
        image.format,
        image.quality_score,
        image.file_hash,
        image.captured_at,
        json.dumps(image.processing_metadata),
        image.capture_slot,
        image.created_at,
        camera.pk,
        attempt.attempted_at,
        attempt.status,
        attempt.duration_ms,
        attempt.retry_count,
        attempt.attempted_at,
        camera.pk,
    ]
    # Inside a caller's transaction a savepoint keeps a unique violation (a
    # concurrent run of the slot) from aborting it; on its own the statement is atomic.
    savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with savepoint, connection.cursor() as cursor:
        cursor.execute(_STORE_SUCCESS_SQL, params)
        image.pk, image.day_number, attempt.pk, camera.down_notified_at = cursor.fetchone()
    for row in (image, attempt):
        row._state.adding, row._state.db = False, connection.alias
    attempt.image = image
    camera.connection_failures, camera.last_health_check = 0, attempt.attempted_at
    camera.offline_since = None


def _record_failure(camera: Camera, error: CaptureError, started: float) -> Outcome:
    now = timezone.now()
    with transaction.atomic():
        attempt = CaptureAttempt.objects.create(
            camera=camera,
            attempted_at=now,
            status=error.status,
            error_message=error.reason,
            duration_ms=int((time.monotonic() - started) * 1000),
            retry_count=error.retries,
        )
        changes = {"connection_failures": F("connection_failures") + 1, "last_health_check": now}
        if error.offline:
            # Since the first offline answer: captures back off from then (Camera.backoff_until).
            changes["offline_since"] = Coalesce(F("offline_since"), now)
        Camera.objects.filter(pk=camera.pk).update(**changes)
        transaction.on_commit(lambda: capture_failed.send(sender=Camera, camera=camera, attempt=attempt))
    # The reason is our own sentence and never holds the URL.
    logger.warning("capture failed: camera=%s status=%s reason=%s", camera.pk, error.status, error.reason)
    return Outcome(attempt=attempt, image=None)


def store(
    camera: Camera,
    data: bytes,
    captured_at: datetime,
    *,
    slot: datetime | None = None,
    started: float | None = None,
    retries: int = 0,
    extra_metadata: dict | None = None,
    record_attempt: bool = True,
) -> Outcome:
    """Validate, rotate, score and store one picture; CaptureError if it is not one.

    The file is written before the row: if the insert fails the file is removed,
    and a file without a row is never left behind.
    """
    return _store(
        camera,
        data,
        captured_at,
        previous_hash=_previous_hash(camera),
        slot=slot,
        started=started,
        retries=retries,
        extra_metadata=extra_metadata,
        record_attempt=record_attempt,
    )


def _store(
    camera: Camera,
    data: bytes,
    captured_at: datetime,
    *,
    previous_hash: str | None,
    slot: datetime | None,
    started: float | None,
    retries: int,
    extra_metadata: dict | None,
    record_attempt: bool,
) -> Outcome:
    started = time.monotonic() if started is None else started
    picture = imaging.decode(data, camera.rotation)
    digest = hashlib.sha256(picture.data).hexdigest()
    score, quality_detail = imaging.quality(picture.gray, frozen=digest == previous_hash)
    relpath = image_relpath(camera, captured_at, picture.format)
    absolute = Path(settings.DATA_DIR) / relpath
    try:
        if mediastore.remote():
            # One PUT is atomic; the timestamped name (to the microsecond) is what
            # keeps two captures apart, as the local no-overwrite rename does.
            key = media_key(str(relpath))
            mediastore.put(key, picture.data, _CONTENT_TYPES[picture.format])
        else:
            write_atomically(absolute, picture.data)
    except FileExistsError:
        raise CaptureError(
            "error", "An image with the same timestamp already exists; not overwritten."
        ) from None
    except mediastore.MediaStoreError as exc:
        raise CaptureError("error", f"Could not store the image: {exc}") from None
    except OSError as exc:
        raise CaptureError(
            "error", f"Could not write the image to the data directory ({os.strerror(exc.errno or 0)})."
        ) from None
    metadata = {
        "exif": picture.exif,
        "quality": quality_detail,
        "rotation": camera.rotation,
        "resolution": f"{picture.width}x{picture.height}",
    }
    metadata.update(extra_metadata or {})
    now = timezone.now()
    image = Image(
        camera=camera,
        filename=relpath.name,
        file_path=str(relpath),
        file_size_bytes=len(picture.data),
        width=picture.width,
        height=picture.height,
        format=picture.format,
        quality_score=score,
        file_hash=digest,
        captured_at=captured_at,
        processing_metadata=metadata,
        capture_slot=slot,
        created_at=now,
    )
    attempt = None
    if record_attempt:
        attempt = CaptureAttempt(
            camera=camera,
            attempted_at=now,
            status=CaptureAttempt.Status.SUCCESS,
            image=image,
            duration_ms=int((time.monotonic() - started) * 1000),
            retry_count=retries,
        )
    tries = 0

    def insert() -> None:
        nonlocal tries
        tries += 1
        # A try whose commit went through but whose answer was lost must not store twice.
        if tries > 1 and _load_stored(image, attempt):
            return
        _insert(camera, image, attempt, now)

    try:
        dbwait.until_database_answers(
            insert,
            budget=settings.TIMELAPSER_CAPTURE_DB_WAIT_SECONDS,
            what=f"storing camera {camera.pk}'s picture",
        )
    except BaseException:
        remove_media_file(str(relpath))  # the bucket object too, when media is in one
        raise
    transaction.on_commit(lambda: image_captured.send(sender=Camera, camera=camera, image=image))
    return Outcome(attempt=attempt, image=image)


def _insert(camera: Camera, image: Image, attempt: CaptureAttempt | None, now: datetime) -> None:
    if attempt is not None and connection.vendor == "postgresql":
        _insert_success_postgresql(camera, image, attempt)
        return
    with transaction.atomic():
        image.save(force_insert=True)
        if attempt is not None:
            attempt.image = image
            attempt.save(force_insert=True)
            Camera.objects.filter(pk=camera.pk).update(
                connection_failures=0, offline_since=None, last_health_check=now
            )
            camera.connection_failures, camera.last_health_check = 0, now
            camera.offline_since = None
            # What the "back up" notice checks, read in this transaction (see notify).
            camera.refresh_from_db(fields=["down_notified_at"])


def _load_stored(image: Image, attempt: CaptureAttempt | None) -> bool:
    """Fill in `image` (and `attempt`) from the rows an earlier try stored, if it did."""
    stored = Image.objects.filter(camera_id=image.camera_id, file_path=image.file_path).first()
    if stored is None:
        return False
    image.pk, image.day_number, image._state = stored.pk, stored.day_number, stored._state
    if attempt is not None:
        found = CaptureAttempt.objects.filter(image_id=stored.pk).first()
        if found is not None:
            attempt.pk, attempt._state, attempt.image = found.pk, found._state, image
    return True


def _slot_lookup(camera: Camera, slot: datetime | None) -> tuple[int | None, str | None]:
    """_slot_image_and_previous_hash, or (None, None) while the database is unreachable:
    the camera is fetched all the same (the moment does not come back) and the
    store step waits for the database; the slot's unique key still stops a double."""
    try:
        return _slot_image_and_previous_hash(camera, slot)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block or not dbwait.unreachable():
            raise
        logger.warning("database unreachable before capture: camera=%s; fetching anyway", camera.pk)
        return None, None


def fetch_frame(camera: Camera, secret: secrets.CameraSecret) -> sources.Fetched:
    """A console camera through its console (shared key and budget); any other by its URL."""
    if camera.console_id:
        return protect.fetch_camera(camera)
    return sources.fetch(secret)


def capture(camera: Camera, slot: datetime | None = None) -> Outcome:
    """Take one picture now for `camera` (optionally for a scheduled slot) and record it."""
    existing, previous_hash = _slot_lookup(camera, slot)
    if existing is not None:
        return Outcome(attempt=None, image=Image.objects.get(pk=existing), already_done=True)
    started = time.monotonic()
    try:
        secret = secrets.load_secret(camera.encryption_key_ref)
    except secrets.SecretError as exc:
        return _record_failure(camera, CaptureError("error", str(exc)), started)
    retries = 0
    try:
        fetched = fetch_frame(camera, secret)
        retries = fetched.retries
        captured_at = timezone.now()
        return _store(
            camera,
            fetched.data,
            captured_at,
            previous_hash=previous_hash,
            slot=slot,
            started=started,
            retries=retries,
            extra_metadata=fetched.metadata,
            record_attempt=True,
        )
    except CaptureError as error:
        error.retries = max(error.retries, retries)
        return _record_failure(camera, error, started)
    except dbwait.DatabaseUnreachable as exc:
        logger.error(
            "capture dropped: camera=%s captured_at=%s: %s; the picture was removed and no attempt row "
            "could be written (the database is where attempts are kept)",
            camera.pk,
            captured_at.isoformat(),
            exc,
        )
        return Outcome(attempt=None, image=None, dropped=True)
    except IntegrityError:
        # A concurrent run of the same slot won the unique (camera, capture_slot).
        existing = Image.objects.filter(camera=camera, capture_slot=slot).first()
        if existing is not None:
            return Outcome(attempt=None, image=existing, already_done=True)
        raise
    except Exception as exc:
        # Unexpected: record it (class name only; messages may quote the URL) and go on.
        logger.error("capture crashed: camera=%s error=%s", camera.pk, type(exc).__name__)
        return _record_failure(
            camera, CaptureError("error", f"Internal error ({type(exc).__name__})."), started
        )


def grab_preview(camera: Camera) -> tuple[imaging.Picture | None, int, str | None]:
    """(picture, latency ms, failure reason) without storing anything: the admin's test button."""
    started = time.monotonic()
    try:
        secret = secrets.load_secret(camera.encryption_key_ref)
        picture = imaging.decode(fetch_frame(camera, secret).data, camera.rotation)
    except secrets.SecretError as exc:
        return None, int((time.monotonic() - started) * 1000), str(exc)
    except CaptureError as error:
        return None, int((time.monotonic() - started) * 1000), error.reason
    return picture, int((time.monotonic() - started) * 1000), None


def _exif_datetime(exif: dict, tz_name: str) -> datetime | None:
    import zoneinfo

    value = exif.get("DateTimeOriginal") or exif.get("DateTime")
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    # EXIF times carry no zone; cameras write local time.
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(tz_name))


def imported_hashes(camera: Camera) -> set[str]:
    """sha256 of every source file already imported for the camera (one query per import run)."""
    rows = Image.objects.filter(camera=camera, processing_metadata__has_key="source_sha256").values_list(
        "processing_metadata__source_sha256", flat=True
    )
    return set(rows)


def import_file(camera: Camera, path: Path, known: set[str] | None = None) -> Outcome | None:
    """Import one existing picture (no attempt row: nothing was attempted).

    captured_at comes from EXIF DateTimeOriginal, else the file's mtime. A file
    whose sha256 is in `known` (see imported_hashes) was imported before and is
    skipped (returns None); the source's hash is kept because rotation changes
    the stored file's.
    """
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    known = imported_hashes(camera) if known is None else known
    if digest in known:
        return None
    picture = imaging.decode(data)
    captured_at = _exif_datetime(picture.exif, camera.timezone) or datetime.fromtimestamp(
        path.stat().st_mtime, UTC
    )
    outcome = store(
        camera,
        data,
        captured_at,
        record_attempt=False,
        extra_metadata={"imported_from": path.name, "source_sha256": digest},
    )
    known.add(digest)
    return outcome
