"""Cleanup and dashboard-query speed on PostgreSQL at 5 million images.

Run from the repo root: .venv/bin/python bench/cleanup.py
Creates its own database (tl_bench_cleanup, or BENCH_DB) and data dir, and drops
both at the end (BENCH_KEEP=1 keeps them).
50 cameras x 100,000 images one every 3 minutes (~208 days), ~8% of them in
completed manual batches, real files for a 20,000-image sample. Then times the
dashboard queries and a real cleanup run at 120 days' retention, which deletes the
unprotected images older than that together with their files. BENCH_PER_CAMERA
makes a smaller run for development (same span, images further apart).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "tl_bench_cleanup")
CAMERAS = 50
PER_CAMERA = int(os.environ.get("BENCH_PER_CAMERA", "100000"))
# Smaller runs space their images further apart, so they span the same ~208 days
# and the cleanup deletes the same share of them.
INTERVAL_S = 180 * 100_000 // PER_CAMERA
SAMPLE_FILES = 20_000
RETENTION_DAYS = 120

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
data_dir = tempfile.mkdtemp(prefix="tl-bench-cleanup-")
os.environ.update(
    DATABASE_URL=f"{SERVER}/{DB}",
    TIMELAPSER_DATA_DIR=data_dir,
    SECRET_KEY="bench-only-" + "x" * 40,
    TIMELAPSER_RETENTION_DAYS=str(RETENTION_DAYS),
    TIMELAPSER_THINNING_TIERS="",
    LOG_LEVEL="WARNING",
    DJANGO_SETTINGS_MODULE="timelapser.settings",
)


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def timed_ms(fn, repeat: int = 30) -> tuple[float, float]:
    """Median and best of `repeat` calls, in ms (the best shows the cost without neighbours' noise)."""
    fn()  # warm the cache: dashboards ask the same question again and again
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def show(name: str, figures: tuple[float, float]) -> None:
    print(f"{name}={figures[0]:.2f}")
    print(f"{name.removesuffix('_ms')}_best_ms={figures[1]:.2f}")


def backend_cpu_s(connection) -> float:
    """CPU seconds the PostgreSQL backend serving this connection has used (local server)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    admin(f"DROP DATABASE IF EXISTS {DB}")
    admin(f"CREATE DATABASE {DB}")
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept database {DB} and {data_dir}", file=sys.stderr)
        else:
            admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            shutil.rmtree(data_dir, ignore_errors=True)


def run() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cameras.models import Camera
    from captures.stats import day_counts, latest_images
    from operations.cleanup import run_cleanup

    call_command("migrate", verbosity=0)
    for n in range(CAMERAS):
        Camera.objects.create(name=f"bench-{n:02d}", url_hash=f"{n:064d}", timezone="Europe/Berlin")

    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Time order across cameras, as captures arrive; ten statements so no
        # single transaction holds all five million rows.
        step = PER_CAMERA // 10
        for lo in range(PER_CAMERA, 0, -step):
            cursor.execute(
                """
                INSERT INTO images (camera_id, filename, file_path, file_size_bytes, format,
                                    quality_score, captured_at, processing_metadata, created_at)
                SELECT c.id, g || '.jpg',
                       'images/' || c.id || '/' || to_char(ts, 'YYYY/MM/DD') || '/' || g || '.jpg',
                       40000 + (g %% 1000), 'JPEG', (g * 7 + c.id) %% 101, ts, '{}', ts
                FROM generate_series(%s, %s, -1) g
                CROSS JOIN cameras c
                CROSS JOIN LATERAL (SELECT now() - g * %s * interval '1 second'
                                           - c.id * interval '1 second' AS ts) t
                ORDER BY g DESC, c.id
                """,
                [lo, max(lo - step + 1, 1), INTERVAL_S],
            )
        print(f"insert_s={time.perf_counter() - started:.1f}", flush=True)
        # ~8% of the images (every 12th of each camera) in one completed manual batch per camera.
        cursor.execute(
            """
            INSERT INTO timelapse_batches (camera_id, batch_type, status, frame_rate, total_frames,
                generation_mode, day_overlay_applied, created_at, selection, dropped_frames,
                frames_done, attempts)
            SELECT id, 'manual', 'completed', 30, 0, 'manual_only', false, now(), '{}', '[]', 0, 0
            FROM cameras
            """
        )
        cursor.execute(
            """
            INSERT INTO timelapse_images (timelapse_batch_id, image_id, sequence_order, included_at)
            SELECT b.id, i.id, row_number() OVER (PARTITION BY b.id ORDER BY i.id), now()
            FROM images i JOIN timelapse_batches b ON b.camera_id = i.camera_id
            WHERE i.id % 12 = 0
            """
        )
        cursor.execute("SELECT count(*) FROM images")
        total = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM timelapse_images")
        in_batches = cursor.fetchone()[0]
        # Real files for a sample spread over every camera and age.
        cursor.execute("SELECT file_path FROM images WHERE id %% %s = 7", [total // SAMPLE_FILES])
        sample = [row[0] for row in cursor.fetchall()]
    print(f"batches_s={time.perf_counter() - started:.1f}", flush=True)
    made: set[Path] = set()
    for relative in sample:
        path = Path(data_dir) / relative
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(b"\xff\xd8 bench frame \xff\xd9")
    print(f"files_s={time.perf_counter() - started:.1f}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE images")
        cursor.execute("VACUUM ANALYZE timelapse_images")
    print(f"images={total}")
    print(f"images_in_batches={in_batches}")
    print(f"sample_files={len(sample)}")
    print(f"setup_s={time.perf_counter() - started:.1f}")

    camera = Camera.objects.get(name="bench-25")
    show("latest_per_camera_ms", timed_ms(lambda: latest_images()))
    assert len(latest_images()) == CAMERAS
    show("day_counts_90d_ms", timed_ms(lambda: day_counts(camera, days=90)))

    # The admin's preview is this dry run; over ~30 s it cannot run inside a web request.
    cpu_before = backend_cpu_s(connection) + time.process_time()
    started = time.perf_counter()
    preview = run_cleanup(dry_run=True)
    print(f"cleanup_preview_s={time.perf_counter() - started:.1f}")
    print(f"cleanup_preview_cpu_s={backend_cpu_s(connection) + time.process_time() - cpu_before:.1f}")
    print(f"cleanup_preview_would_delete={preview.deleted}", flush=True)

    cpu_before = backend_cpu_s(connection) + time.process_time()
    started = time.perf_counter()
    report = run_cleanup()
    elapsed = time.perf_counter() - started
    cpu = backend_cpu_s(connection) + time.process_time() - cpu_before
    left = sum(1 for relative in sample if (Path(data_dir) / relative).exists())
    pages = report.page_seconds
    print(f"cleanup_deleted_images={report.deleted}")
    print(f"cleanup_files_deleted={len(sample) - left}")
    print(f"cleanup_s={elapsed:.1f}")
    print(f"cleanup_images_per_s={report.deleted / elapsed:.0f}")
    # On a shared machine wall time depends on the neighbours; CPU seconds of
    # this process and its PostgreSQL backend say what the work itself costs.
    print(f"cleanup_cpu_s={cpu:.1f}")
    print(f"cleanup_images_per_cpu_s={report.deleted / cpu:.0f}")
    print(f"load_average={os.getloadavg()[0]:.1f}")
    print(f"cleanup_pages={len(pages)}")
    # Flat means the last pages take as long as the first: keyset, no re-scan.
    full = [s for s in pages if s > 0] or [0.0]
    tenth = max(len(full) // 10, 1)
    deciles = [
        statistics.mean(full[i : i + tenth]) * 1000
        for i in range(0, tenth * 10, tenth)
        if full[i : i + tenth]
    ]
    print("cleanup_page_ms_by_decile=" + ",".join(f"{ms:.0f}" for ms in deciles))
    print(f"cleanup_page_ms_median={statistics.median(full) * 1000:.0f}")
    print(f"cleanup_page_ms_max={max(full) * 1000:.0f}")
    show("latest_per_camera_after_cleanup_ms", timed_ms(lambda: latest_images()))


if __name__ == "__main__":
    main()
