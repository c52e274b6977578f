"""The cleanup routine: apply each camera's retention policy, then tidy what is left.

Order of work, each step safe to interrupt:
1. walk the images past their camera's keep-all age in keyset pages by id (all
   cameras in one pass), decide what goes (see `_Thinner`), delete up to
   PAGE_SIZE rows per transaction, and unlink their files after the commit;
2. sweep DATA_DIR/images for files no row refers to (what a crash between a
   commit and its unlinks, or a half-written capture, leaves behind), and the
   videos and segments of deleted batches and cameras (operations.outputsweep);
3. prune old capture attempts; 4. drop superseded continuous outputs.
Only one run at a time (`single_run`).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import zoneinfo
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from batches import lifecycle, protection
from batches.models import TimelapseBatch
from cameras.models import Camera
from captures import retention, thumbnails
from captures.models import CaptureAttempt, Image
from common import mediastore
from common.paths import remove_media_files
from operations import outputsweep
from sharing.models import ShareBatch

log = logging.getLogger(__name__)

PAGE_SIZE = 10_000
# Any constant works; it only has to be the same in every process of this app.
ADVISORY_LOCK_ID = 7_406_114_001


class CleanupBusy(Exception):
    """Another cleanup run holds the lock."""


@contextlib.contextmanager
def single_run() -> Iterator[None]:
    """Hold the one-cleanup-at-a-time lock, or raise CleanupBusy at once.

    PostgreSQL: a session advisory lock, released at the end or when the
    connection dies with its process. SQLite has no such lock, so an flock on a
    file in DATA_DIR does the same (the kernel drops it when the process dies).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_ID])
            if not cursor.fetchone()[0]:
                raise CleanupBusy("another cleanup is running")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_ID])
        return
    with (Path(settings.DATA_DIR) / "cleanup.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise CleanupBusy("another cleanup is running") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class CameraReport:
    camera: str
    policy: str
    deleted: int = 0
    deleted_bytes: int = 0
    kept_age: int = 0
    kept_protected: int = 0
    kept_tier: int = 0
    # Set when the camera's own policy is invalid: it is skipped, the others go on.
    error: str = ""


@dataclass
class Report:
    dry_run: bool
    cameras: list[CameraReport] = field(default_factory=list)
    orphan_files: int = 0
    orphan_bytes: int = 0
    thumbnails_removed: int = 0
    attempts_pruned: int = 0
    outputs_removed: int = 0
    shares_repointed: int = 0
    page_seconds: list[float] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        return sum(c.deleted for c in self.cameras)


def run_cleanup(
    *, dry_run: bool = False, camera_names: list[str] | None = None, now: datetime | None = None
) -> Report:
    """The whole routine under the single-run lock. Raises CleanupBusy if one is running."""
    now = now or timezone.now()
    report = Report(dry_run=dry_run)
    with single_run():
        cameras = Camera.objects.order_by("name")
        if camera_names:
            cameras = cameras.filter(name__in=camera_names)
        valid = []
        for camera in cameras:
            try:
                retention.policy_for(camera)
            except ValueError as exc:
                log.error("cleanup %s skipped: %s", camera.name, exc)
                report.cameras.append(CameraReport(camera=camera.name, policy="", error=str(exc)))
            else:
                valid.append(camera)
        report.cameras.extend(clean_images(valid, now=now, dry_run=dry_run, report=report))
        if not camera_names:
            # Whole-installation steps; a run for one camera stays about that camera.
            files, size = sweep_orphan_files(now=now, dry_run=dry_run)
            outputs, output_size = outputsweep.sweep_orphan_outputs(now=now, dry_run=dry_run)
            report.orphan_files, report.orphan_bytes = files + outputs, size + output_size
            report.thumbnails_removed = thumbnails.sweep_stale(dry_run=dry_run)
            report.attempts_pruned = prune_attempts(now=now, dry_run=dry_run)
            report.outputs_removed, report.shares_repointed = remove_superseded_outputs(
                dry_run=dry_run, now=now
            )
    return report


class _Thinner:
    """Decides image by image, in captured_at order, what a camera keeps.

    In a thinning tier each hour/day bucket keeps its best image. Because images
    arrive in time order a bucket is contiguous, and an image that loses a
    comparison can never win its bucket later, so the loser is decided at once:
    memory is one candidate, however large the bucket.
    """

    def __init__(self, camera: Camera, policy: retention.Policy, now: datetime, report: CameraReport):
        self.policy = policy
        self.now = now
        self.cutoff = now - timedelta(days=policy.keep_all_days)
        self.report = report
        self.tz = zoneinfo.ZoneInfo(camera.timezone)
        self.coverage: dict[date, datetime] | None = protection.segment_coverage(camera)
        self.bucket: tuple | None = None
        self.best: tuple | None = None  # (quality, captured_at, id, protected, path, size)

    def feed(self, row: tuple) -> tuple | None:
        """Take one image row; return a row that should be deleted, if any."""
        pk, captured_at, quality, path, size, in_batch = row
        protected = in_batch or protection.awaits_segment(self.coverage, captured_at, self.tz)
        candidate = (quality, captured_at, pk, protected, path, size)
        tier = self.policy.tier_for_age(self.now - captured_at)
        if tier is None or tier.keep_one_per == "none":
            return self._lose(candidate)
        key = retention.bucket_key(tier.keep_one_per, captured_at, self.tz)
        if key != self.bucket:
            self.finish()
            self.bucket, self.best = key, candidate
            return None
        if retention.better(candidate, self.best):
            candidate, self.best = self.best, candidate
        return self._lose(candidate)

    def finish(self) -> None:
        if self.best is not None:
            if self.best[3]:
                self.report.kept_protected += 1
            else:
                self.report.kept_tier += 1
        self.bucket = self.best = None

    def _lose(self, candidate: tuple) -> tuple | None:
        if candidate[3]:
            self.report.kept_protected += 1
            return None
        return candidate


def clean_images(
    cameras: list[Camera], *, now: datetime, dry_run: bool, report: Report, page_size: int = PAGE_SIZE
) -> list[CameraReport]:
    """Apply the cameras' policies in one pass over the images in id order.

    Keyset pages by id (`id > last ORDER BY id LIMIT n`): each page starts where
    the last ended in the primary key, so page times stay flat however many rows
    came before (no OFFSET, no re-scan of deleted rows), and pages walk the heap
    in the order rows were written, all cameras at once, instead of visiting
    every page once per camera. Captures get increasing ids, so a camera's rows
    come in time order and a thinning bucket is one run of rows; an import that
    breaks that makes a bucket keep one image per run: more, never fewer.
    """
    thinners: dict[int, _Thinner] = {}
    for camera in cameras:
        policy = retention.policy_for(camera)
        result = CameraReport(camera=camera.name, policy=policy.describe())
        thinner = thinners[camera.pk] = _Thinner(camera, policy, now, result)
        result.kept_age = Image.objects.filter(camera=camera, captured_at__gte=thinner.cutoff).count()
    if not thinners:
        return []
    latest_cutoff = max(t.cutoff for t in thinners.values())
    remover = FileRemover()
    try:
        _walk_pages(
            latest_cutoff, thinners, dry_run=dry_run, report=report, page_size=page_size, remover=remover
        )
    finally:
        remover.close()
    for thinner in thinners.values():
        thinner.finish()
        log.info(
            "cleanup %s: %s %d images (%d bytes)",
            thinner.report.camera,
            "would delete" if dry_run else "deleted",
            thinner.report.deleted,
            thinner.report.deleted_bytes,
        )
    return [t.report for t in thinners.values()]


def _walk_pages(before, thinners: dict[int, _Thinner], *, dry_run, report, page_size, remover) -> None:
    last_id = 0
    while True:
        started = time.perf_counter()
        rows = _read_page(list(thinners), before, last_id, page_size)
        if not rows:
            return
        last_id = rows[-1][0]
        doomed = []
        for pk, camera_id, captured_at, *rest in rows:
            thinner = thinners[camera_id]
            if captured_at < thinner.cutoff:
                lost = thinner.feed((pk, captured_at, *rest))
                if lost is not None:
                    doomed.append((camera_id, lost))
        if dry_run:
            for camera_id, lost in doomed:
                thinners[camera_id].report.deleted += 1
                thinners[camera_id].report.deleted_bytes += lost[5]
        else:
            deleted = delete_images([lost[2] for _, lost in doomed], remover)
            for camera_id, _, size in deleted:
                thinners[camera_id].report.deleted += 1
                thinners[camera_id].report.deleted_bytes += size
            # Rows the re-check kept (a batch took them meanwhile) count as protected.
            gone = Counter(camera_id for camera_id, _, _ in deleted)
            for camera_id, n in Counter(camera_id for camera_id, _ in doomed).items():
                thinners[camera_id].report.kept_protected += n - gone[camera_id]
        report.page_seconds.append(time.perf_counter() - started)
        if len(rows) < page_size:
            return


_PROTECTIVE_FRAME = protection.protecting_frame_sql

# PostgreSQL asks "does a batch protect it?" with one index probe per image, in
# a LATERAL ... LIMIT 1, which the planner can neither hash nor turn into a
# join. Written as EXISTS / NOT EXISTS it may hash every protective frame of the
# installation once per statement instead: 417k rows in the benchmark, spilling
# to disk, ~300 ms per DELETE and ~170 ms per page read (growing with the
# batches), against ~10 ms for 10,000 probes.
# captured_at comes as epoch microseconds: the timestamptz loader Django
# installs is plain Python and costs ~35 ms of CPU per 10,000 rows.
_PG_PAGE = f"""
    SELECT i.id, i.camera_id, (extract(epoch FROM i.captured_at) * 1000000)::bigint,
           i.quality_score, i.file_path, i.file_size_bytes, p.found IS NOT NULL
    FROM (SELECT id, camera_id, captured_at, quality_score, file_path, file_size_bytes
          FROM images
          WHERE camera_id = ANY(%s) AND captured_at < %s AND id > %s
          ORDER BY id LIMIT %s) i
    LEFT JOIN LATERAL ({_PROTECTIVE_FRAME("i.id")} LIMIT 1) p ON true
    ORDER BY i.id
"""
_PG_DELETE = f"""
    DELETE FROM images USING unnest(%s::bigint[]) AS doomed(id)
    LEFT JOIN LATERAL ({_PROTECTIVE_FRAME("doomed.id")} LIMIT 1) p ON true
    WHERE images.id = doomed.id AND p.found IS NULL
    RETURNING images.camera_id, images.file_path, images.file_size_bytes
"""
_SQLITE_DELETE = f"""
    DELETE FROM images WHERE id IN ({{ids}})
      AND NOT EXISTS ({_PROTECTIVE_FRAME("images.id")})
    RETURNING camera_id, file_path, file_size_bytes
"""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _no_jit(cursor) -> None:
    # A page's cost estimate passes JIT's threshold; compiling takes 10-15 ms
    # per statement, about as long as the statement itself runs.
    cursor.execute("SET LOCAL jit = off")


def _read_page(camera_ids: list[int], before: datetime, last_id: int, size: int) -> list[tuple]:
    """The next keyset page of images taken before `before`, with whether a batch protects each.

    Rows: (id, camera_id, captured_at, quality_score, file_path, file_size_bytes, in_batch).
    """
    if connection.vendor != "postgresql":
        return list(
            Image.objects.filter(camera_id__in=camera_ids, captured_at__lt=before, id__gt=last_id)
            .annotate(in_batch=protection.in_protective_batch())
            .order_by("id")
            .values_list(
                "id", "camera_id", "captured_at", "quality_score", "file_path", "file_size_bytes", "in_batch"
            )[:size]
        )
    with transaction.atomic(), connection.cursor() as cursor:
        _no_jit(cursor)
        cursor.execute(_PG_PAGE, [camera_ids, before, last_id, size])
        rows = cursor.fetchall()
    return [(pk, camera, _EPOCH + timedelta(microseconds=us), *rest) for pk, camera, us, *rest in rows]


def delete_images(ids: list[int], remover: FileRemover | None = None) -> list[tuple[int, str, int]]:
    """Delete these image rows in one transaction, then their files; returns (camera, path, size).

    The DELETE re-checks protection itself, so a batch that took an image since
    we read it keeps it. The database's ON DELETE rules drop the image's
    timelapse_images rows and null capture_attempts.image_id. Files go only
    after the commit: a crash in between leaves files without rows, which the
    orphan sweep removes, never rows without files.
    """
    if not ids:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _no_jit(cursor)
            # The ids as one array literal: psycopg adapts a 10,000-item list
            # item by item, ~5 ms of Python per page.
            cursor.execute(_PG_DELETE, ["{" + ",".join(map(str, ids)) + "}"])
        else:
            cursor.execute(_SQLITE_DELETE.format(ids=",".join(["%s"] * len(ids))), ids)
        deleted = cursor.fetchall()
    paths = [path for _, path, _ in deleted]
    if remover is None:
        remove_media_files(paths)
    else:
        remover.submit(paths)
    return deleted


class FileRemover:
    """Unlinks files on worker threads while the next page's rows are read and deleted.

    An unlink is a system call that releases the GIL, and on a busy disk it
    costs more than the row it belonged to; a few threads overlap them with the
    database work. At most `depth` pages are in flight, so memory stays flat.
    """

    def __init__(self, threads: int = 4, depth: int = 4):
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cleanup-unlink")
        self.depth = depth
        self.pending: deque[Future] = deque()

    def submit(self, relative_paths: list[str]) -> None:
        while len(self.pending) >= self.depth:
            self.pending.popleft().result()
        for i in range(0, len(relative_paths), 2500):
            self.pending.append(self.pool.submit(remove_media_files, relative_paths[i : i + 2500]))

    def close(self) -> None:
        while self.pending:
            self.pending.popleft().result()
        self.pool.shutdown()


def _dir_date(parts: tuple[str, ...]) -> date | None:
    """images/<camera>/<YYYY>/<MM>/<DD>: the day a directory holds, if it is a day directory."""
    if len(parts) != 3:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def sweep_orphan_files(*, now: datetime, dry_run: bool) -> tuple[int, int]:
    """Remove files under DATA_DIR/images (or the bucket's images/) that no image row refers to.

    Only files older than the grace period: a capture writes its file before
    its row commits. Directory by directory (memory stays flat): a fast query
    by camera and day range finds the usual references; only files that one
    misses (imports filed under another day, real orphans) get an exact
    file_path lookup before they go.
    """
    grace = (now - timedelta(hours=settings.TIMELAPSER_ORPHAN_GRACE_HOURS)).timestamp()
    cameras: dict[str, int] = {}
    for pk, name in Camera.objects.values_list("pk", "name"):
        cameras[str(pk)] = pk
        cameras.setdefault(name, pk)
    if mediastore.remote():
        return _sweep_bucket(grace, cameras, dry_run)
    root = Path(settings.DATA_DIR) / "images"
    if not root.is_dir():
        return 0, 0
    count = size = 0
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        here = Path(dirpath)
        relative_dir = here.relative_to(settings.DATA_DIR).as_posix()
        parts = here.relative_to(root).parts
        old = []
        for name in filenames:
            with contextlib.suppress(FileNotFoundError):
                stat = (here / name).stat()
                if stat.st_mtime < grace:
                    old.append((f"{relative_dir}/{name}", stat.st_size))
        if old:
            camera_id = cameras.get(parts[0]) if parts else None
            day = _dir_date(parts[1:])
            orphans = _unreferenced(old, camera_id, day)
            count += len(orphans)
            size += sum(s for _, s in orphans)
            if not dry_run:
                remove_media_files(p for p, _ in orphans)
        if not dry_run and here != root and parts and len(parts) > 1:
            # Empty day/month/year directories go too (rmdir fails on non-empty ones).
            with contextlib.suppress(OSError):
                if here.stat().st_mtime < grace:
                    here.rmdir()
    return count, size


def _sweep_bucket(grace: float, cameras: dict[str, int], dry_run: bool) -> tuple[int, int]:
    """The same sweep over the bucket's listing of images/: a listing comes sorted by key, so
    one directory's objects arrive together and are checked as one group (at most 5000)."""
    count = size = 0
    group: list[tuple[str, int]] = []
    here = None

    def flush() -> None:
        nonlocal count, size
        parts = tuple(here.split("/")[1:])  # images/<camera>/<YYYY>/<MM>/<DD>
        orphans = _unreferenced(group, cameras.get(parts[0]) if parts else None, _dir_date(parts[1:]))
        count += len(orphans)
        size += sum(s for _, s in orphans)
        if not dry_run:
            remove_media_files(p for p, _ in orphans)

    try:
        for relative, nbytes, modified in mediastore.listing("images"):
            if modified >= grace:
                continue
            directory = relative.rpartition("/")[0]
            if group and (directory != here or len(group) >= 5000):
                flush()
                group = []
            here = directory
            group.append((relative, nbytes))
    except mediastore.MediaStoreError as exc:
        # The rest of the cleanup still runs; the next night's sweep picks up from the start.
        log.warning("orphan sweep stopped: %s", exc)
        return count, size
    if group:
        flush()
    return count, size


def _unreferenced(files: list[tuple[str, int]], camera_id: int | None, day: date | None):
    images = Image.objects.all()
    if camera_id is not None:
        images = images.filter(camera_id=camera_id)
    remaining = files
    if day is not None and camera_id is not None:
        # Directory dates may be local or UTC days; two days either side covers both.
        start = datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo("UTC")) - timedelta(days=2)
        known = set(
            images.filter(captured_at__gte=start, captured_at__lt=start + timedelta(days=5)).values_list(
                "file_path", flat=True
            )
        )
        remaining = [f for f in files if f[0] not in known]
    orphans = []
    for i in range(0, len(remaining), 5000):
        chunk = remaining[i : i + 5000]
        known = set(images.filter(file_path__in=[p for p, _ in chunk]).values_list("file_path", flat=True))
        orphans.extend(f for f in chunk if f[0] not in known)
    return orphans


def prune_attempts(*, now: datetime, dry_run: bool) -> int:
    """Delete capture attempts older than TIMELAPSER_ATTEMPTS_RETENTION_DAYS, 10k per transaction."""
    cutoff = now - timedelta(days=settings.TIMELAPSER_ATTEMPTS_RETENTION_DAYS)
    old = CaptureAttempt.objects.filter(attempted_at__lt=cutoff)
    if dry_run:
        return old.count()
    total = 0
    while True:
        with transaction.atomic():
            ids = list(old.order_by("id").values_list("id", flat=True)[:PAGE_SIZE])
            if ids:
                total += CaptureAttempt.objects.filter(id__in=ids).delete()[0]
        if len(ids) < PAGE_SIZE:
            return total


def remove_superseded_outputs(*, dry_run: bool, now: datetime | None = None) -> tuple[int, int]:
    """Drop published continuous batches older than the camera's newest published one.

    Shares showing an old continuous video are repointed to the newest one
    rather than keeping the old file: a share of a continuous timelapse means
    "the live video", and the old file would otherwise stay forever. Returns
    (batches removed, share links repointed). Only once the newest has been
    published for the retirement grace period (lifecycle.remove_retired_outputs
    says why), and never a batch that is rendering. The files (the published one
    and those still retired) go after the commit, unless another batch still
    publishes the same path. Then every batch's retired files past their grace go.
    """
    removed = repointed = 0
    published = TimelapseBatch.objects.filter(
        batch_type=TimelapseBatch.BatchType.CONTINUOUS, published_path__isnull=False
    )
    settled = lifecycle.retirement_cutoff(now)
    idle = (TimelapseBatch.Status.COMPLETED, TimelapseBatch.Status.FAILED)
    camera_ids = published.values_list("camera_id", flat=True).distinct().order_by()
    for camera_id in camera_ids:
        batches = list(published.filter(camera_id=camera_id).order_by("-published_at", "-id"))
        newest = batches[0]
        old = [b for b in batches[1:] if b.status in idle]
        if not old or newest.published_at >= settled:
            continue
        if dry_run:
            removed += len(old)
            repointed += ShareBatch.objects.filter(timelapse_batch__in=old).count()
            continue
        paths = []
        with transaction.atomic():
            for batch in old:
                for link in ShareBatch.objects.select_for_update().filter(timelapse_batch=batch):
                    if ShareBatch.objects.filter(share_id=link.share_id, timelapse_batch=newest).exists():
                        link.delete()
                    else:
                        link.timelapse_batch = newest
                        link.save(update_fields=["timelapse_batch"])
                    repointed += 1
                paths += [batch.published_path, *(r["path"] for r in batch.retired_outputs or [])]
            # ON DELETE CASCADE drops their timelapse_images rows in the database.
            TimelapseBatch.objects.filter(pk__in=[b.pk for b in old]).delete()
            still_used = set(
                TimelapseBatch.objects.filter(published_path__in=paths).values_list(
                    "published_path", flat=True
                )
            )
        remove_media_files(p for p in paths if p and p not in still_used)
        removed += len(old)
    if not dry_run:
        lifecycle.remove_retired_outputs(now=now)
    return removed, repointed
