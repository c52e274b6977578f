"""End-to-end capture throughput: fake camera -> Celery worker (Redis) -> file + PostgreSQL row.

Run from the repo root:  .venv/bin/python bench/ingest.py [--cameras 200] [--rate 250] [--seconds 20]
                         [--concurrency 8]
It creates (and drops) the PostgreSQL database tl_bench_ingest, uses Redis DB 1,
starts a fake camera process and a real Celery worker on the capture queue, then
enqueues capture tasks at a steady rate and reports what the worker sustained:
    ingest_captures_per_s=...   ingest_latency_p50_ms=...   ingest_latency_p99_ms=...
Latency is from enqueueing the task to the image row's insert.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DB_NAME = "tl_bench_ingest"
BROKER = "redis://127.0.0.1:6379/1"


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--rate", type=float, default=250.0, help="tasks enqueued per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    from cryptography.fernet import Fernet

    data_dir = Path(tempfile.mkdtemp(prefix="tl-bench-ingest-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "CELERY_BROKER_URL": BROKER,
        "TIMELAPSER_DATA_DIR": str(data_dir),
        "SECRET_KEY": "bench-only-secret-key-" + "z" * 40,
        "TIMELAPSER_SECRETS_KEY": Fernet.generate_key().decode(),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(["redis-cli", "-n", "1", "FLUSHDB"], check=True, capture_output=True)

    camera_proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from captures.fakecamera import FakeCamera; "
            "c = FakeCamera(frames=32).start(); print(c.port, flush=True); time.sleep(10**6)",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(camera_proc.stdout.readline())
    worker = None
    try:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timelapser.settings")
        sys.path.insert(0, str(ROOT))
        django.setup()
        from cameras.services import add_camera
        from captures.models import Image
        from captures.tasks import capture_camera

        ids = [
            add_camera(
                f"bench-{i}", f"http://127.0.0.1:{port}/snap.jpg?camera={i}", capture_interval_seconds=10
            ).pk
            for i in range(args.cameras)
        ]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "timelapser",
                "worker",
                "-Q",
                "capture",
                "-c",
                str(args.concurrency),
                "--prefetch-multiplier",
                "4",
                "-l",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
        )
        # Warm up: the worker's processes connect and import before timing starts.
        base = datetime(2030, 1, 1, tzinfo=UTC)
        for n, camera_id in enumerate(ids[:20]):
            capture_camera.apply_async(
                (camera_id, (base - timedelta(seconds=n + 1)).isoformat()), queue="capture"
            )
        deadline = time.time() + 60
        while Image.objects.count() < 20 and time.time() < deadline:
            time.sleep(0.2)
        warm = Image.objects.count()

        total = int(args.rate * args.seconds)
        sent_at: dict[tuple[int, datetime], float] = {}
        start = time.time()
        for n in range(total):
            due = start + n / args.rate
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            camera_id = ids[n % len(ids)]
            slot = base + timedelta(seconds=10 * (n // len(ids)))
            sent_at[(camera_id, slot)] = time.time()
            capture_camera.apply_async((camera_id, slot.isoformat()), queue="capture")
        enqueue_seconds = time.time() - start
        deadline = time.time() + max(120, args.seconds * 5)
        while Image.objects.filter(capture_slot__gte=base).count() < total and time.time() < deadline:
            time.sleep(0.25)

        rows = list(
            Image.objects.filter(capture_slot__gte=base).values_list(
                "camera_id", "capture_slot", "created_at"
            )
        )
        done = len(rows)
        latencies = sorted(
            (created.timestamp() - sent_at[(camera_id, slot)]) * 1000
            for camera_id, slot, created in rows
            if (camera_id, slot) in sent_at
        )
        last = max(created.timestamp() for _, _, created in rows)
        elapsed = last - start
        files = sum(1 for p in (data_dir / "images").rglob("*.jpg"))
        failed = total - done
        print(f"cameras={args.cameras}")
        print(f"worker_concurrency={args.concurrency}")
        print(f"tasks={total}")
        print(f"enqueue_rate_per_s={total / enqueue_seconds:.1f}")
        print(f"images_stored={done}")
        print(f"files_on_disk={files - warm}")
        print(f"missing={failed}")
        print(f"ingest_captures_per_s={done / elapsed:.1f}")
        print(f"ingest_latency_p50_ms={latencies[len(latencies) // 2]:.1f}")
        print(f"ingest_latency_p99_ms={latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]:.1f}")
        # CPU the worker (all its pool processes) spent per stored image, counted
        # once the worker has exited and been reaped. On a shared machine this says
        # more than wall-clock throughput: 2 idle cores give about 2000 / this many per second.
        worker.terminate()
        worker.wait(timeout=60)
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_ms = ((used.ru_utime + used.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)) * 1000
        print(f"worker_cpu_ms_per_capture={cpu_ms / max(1, done + warm):.2f}")
        print(f"projected_captures_per_s_2_idle_cores={2000 / (cpu_ms / max(1, done + warm)):.0f}")
        print(f"load_average_1min={os.getloadavg()[0]:.1f}")
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        camera_proc.kill()
        camera_proc.wait()
        from django.db import connections

        connections.close_all()
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)
        recreate_database_drop_only()


def recreate_database_drop_only() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
