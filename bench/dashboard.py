"""Benchmark: the admin dashboard and a camera's health SVG on a realistic PostgreSQL database.

Run from the repo root:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/timelapser python bench/dashboard.py
It creates (and drops) a throwaway database <name>_bench, fills it with BENCH_CAMERAS cameras and
BENCH_IMAGES_PER_CAMERA images plus as many capture attempts each (30 days, 5 % failures), then
times the full dashboard page through Django's test client and the health SVG. Prints name=value.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timelapser.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/timelapser")
os.environ.setdefault("TIMELAPSER_DATA_DIR", tempfile.mkdtemp(prefix="timelapser-bench-"))

import django

# whitenoise warns that collectstatic never ran; the bench does not serve static files.
warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

CAMERAS = int(os.environ.get("BENCH_CAMERAS", "60"))
PER_CAMERA = int(os.environ.get("BENCH_IMAGES_PER_CAMERA", "5000"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def fill() -> None:
    from cameras.models import Camera

    for n in range(CAMERAS):
        Camera.objects.create(name=f"bench camera {n:03d}", url_hash=f"{n:064x}", timezone="Europe/Berlin")
    # Spread each camera's images evenly over the last 30 days, newest now.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO images (camera_id, filename, file_path, file_size_bytes, format, captured_at,
                                processing_metadata, created_at)
            SELECT c.id, 'f' || g || '.jpg', 'images/' || c.id || '/f' || g || '.jpg', 250000, 'JPEG',
                   now() - (g * (interval '30 days' / %s)), '{}'::jsonb, now()
            FROM cameras c CROSS JOIN generate_series(0, %s - 1) AS g
            """,
            [PER_CAMERA, PER_CAMERA],
        )
        cursor.execute(
            """
            INSERT INTO capture_attempts (camera_id, attempted_at, status, retry_count)
            SELECT c.id, now() - (g * (interval '30 days' / %s)),
                   CASE WHEN g %% 20 = 0 THEN 'timeout' ELSE 'success' END, 0
            FROM cameras c CROSS JOIN generate_series(0, %s - 1) AS g
            """,
            [PER_CAMERA, PER_CAMERA],
        )
        cursor.execute("ANALYZE images; ANALYZE capture_attempts; ANALYZE cameras")


def timed(fn, runs: int = RUNS) -> float:
    fn()  # warm caches and plans
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/dashboard.py needs PostgreSQL: set DATABASE_URL")
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    from cameras.models import Camera
    from operations.dashboard import disk_bytes_by_camera
    from operations.svg import camera_health_svg

    # No collectstatic here: plain static URLs instead of the hashed manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})["NAME"] = f"{db['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        started = time.perf_counter()
        fill()
        print(f"setup_seconds={time.perf_counter() - started:.1f}")
        print(f"cameras={CAMERAS}")
        print(f"images={CAMERAS * PER_CAMERA}")
        print(f"capture_attempts={CAMERAS * PER_CAMERA}")

        admin = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-1")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(admin)

        def page():
            response = client.get("/admin/dashboard/")
            assert response.status_code == 200 and response.content.count(b'class="tl-card ') == CAMERAS

        with CaptureQueriesContext(connection) as queries:
            page()
        print(f"dashboard_queries={len(queries)}")
        # Disk use is cached for a minute, so most page loads skip its scan; time the scan alone too.
        print(f"dashboard_page_ms={timed(page):.1f}")

        def disk_scan():
            cache.clear()
            disk_bytes_by_camera()

        print(f"dashboard_disk_scan_ms={timed(disk_scan):.1f}")

        camera = Camera.objects.order_by("pk").first()
        print(f"health_svg_ms={timed(lambda: camera_health_svg(camera)):.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
