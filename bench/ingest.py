"""End-to-end capture throughput: fake camera -> Celery worker (Redis) -> file + PostgreSQL row.

Run from the repo root:  .venv/bin/python bench/ingest.py [--cameras 200] [--rate 250] [--seconds 20]
It creates (and drops) the PostgreSQL database tl_bench_ingest, uses Redis DB 1 (BENCH_REDIS_URL
picks another; the bench flushes it), starts a fake camera process and the capture workers exactly
as the Procfile's `worker` and `worker2` lines start them (pool, concurrency and prefetch included;
CAPTURE_* variables apply as they do there), then enqueues capture tasks at a steady rate and reports what it sustained:
    ingest_captures_per_s=...   ingest_latency_p50_ms=...   ingest_latency_p99_ms=...
Latency is from enqueueing the task to the image row's insert.

With BENCH_STORAGE=s3 the images go to a bucket instead (TIMELAPSER_MEDIA_URL=s3://bench/site):
the bench starts its own S3-compatible server (moto's server mode, its own process on
127.0.0.1), counts objects instead of files, and prints ingest_captures_per_s_s3 (and the
server's CPU as bucket_cpu_ms_per_capture). It uses its own database and Redis DB 5.

CPU per capture is counted for every process on the path over the timed window, from /proc:
the worker (all its processes), the fake camera, the PostgreSQL backends of the bench database,
redis-server (shared with whatever else uses it) and this process's enqueueing. On a shared
machine these say more than wall-clock figures: 2 idle cores give about 2000 / pipeline ms per second.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
S3 = os.environ.get("BENCH_STORAGE", "") == "s3"
DB_NAME = "tl_bench_ingest_s3" if S3 else "tl_bench_ingest"
BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5" if S3 else "redis://127.0.0.1:6379/1")
TICKS = os.sysconf("SC_CLK_TCK")


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def procfile_workers(env: dict) -> list[list[str]]:
    """The Procfile's capture workers (`worker`, `worker2`, ...) with ${VAR:-default} expanded,
    each run by this Python."""
    commands = []
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if not re.fullmatch(r"worker\d*", name):
            continue
        command = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1), m.group(2)), command)
        argv = shlex.split(command)
        assert argv[0] == "celery", argv
        commands.append([sys.executable, "-m", "celery", *argv[1:]])
    return commands


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        out.append((int(entry.name), parent, cmdline))
    return out


def start_bucket(env: dict) -> tuple[subprocess.Popen, str]:
    """moto's S3 app in its own process on a free port, with the bench bucket made.

    Served by gunicorn (threads, keep-alive) rather than `python -m moto.server`: that is
    werkzeug's development server, which answers every request with `Connection: close`, so
    each PUT paid a new TCP connection on both sides. S3 and the S3-compatible servers people
    run (MinIO, Garage, Ceph) keep connections open, as botocore's pool expects.
    """
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen(
        [gunicorn, "moto.server:create_backend_app('s3')", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "16", "--keep-alive", "60", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    deadline = time.time() + 60
    while True:
        try:
            client.create_bucket(Bucket="bench")
            return proc, endpoint
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def bucket_objects(endpoint: str) -> int:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return sum(
        page.get("KeyCount", 0) for page in client.get_paginator("list_objects_v2").paginate(Bucket="bench")
    )


def process_tree(roots: list[int], procs: list[tuple[int, int, str]]) -> set[int]:
    """The roots and all their descendants."""
    tree, frontier = set(roots), list(roots)
    while frontier:
        parent = frontier.pop()
        for pid, ppid, _ in procs:
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return tree


def cpu_snapshot(worker_pids: list[int], camera_pid: int, bucket_pid: int | None = None) -> dict[str, float]:
    procs = processes()
    return {
        "worker": sum(cpu_seconds(pid) for pid in process_tree(worker_pids, procs)),
        "camera": cpu_seconds(camera_pid),
        # Backends serving the bench database (the worker's and this process's connections).
        "postgres": sum(cpu_seconds(pid) for pid, _, cmd in procs if f" {DB_NAME} " in cmd),
        "redis": sum(cpu_seconds(pid) for pid, _, cmd in procs if cmd.startswith("redis-server")),
        # gunicorn's master and its worker.
        **(
            {"bucket": sum(cpu_seconds(pid) for pid in process_tree([bucket_pid], procs))}
            if bucket_pid
            else {}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--rate", type=float, default=250.0, help="tasks enqueued per second")
    parser.add_argument("--seconds", type=float, default=20.0)
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
        "PYTHONPATH": str(ROOT),
        # The fake camera listens on 127.0.0.1, which camera URLs refuse unless allowed.
        "TIMELAPSER_CAMERA_ALLOW_LOOPBACK": "1",
    }
    bucket_proc = endpoint = None
    if S3:
        # Made-up keys (moto accepts any), in django-storages' usual variables.
        env.update(
            AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret", AWS_DEFAULT_REGION="us-east-1"
        )
        os.environ.update(env)  # this process's own client (making the bucket, counting objects)
        bucket_proc, endpoint = start_bucket(env)
        env.update(TIMELAPSER_MEDIA_URL="s3://bench/site", AWS_S3_ENDPOINT_URL=endpoint)
    os.environ.update(env)
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(["redis-cli", "-u", BROKER, "FLUSHDB"], check=True, capture_output=True)

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
    workers: list[subprocess.Popen] = []
    worker_log = (data_dir / "worker.log").open("w")
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
        # As the Procfile runs them; their logs go to a file, as under a process manager.
        commands = procfile_workers(env)
        for command in commands:
            print("worker_command=" + shlex.join(["celery", *command[3:]]))
        workers = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT)
            for command in commands
        ]
        # Warm up: the worker's processes connect and import before timing starts.
        base = datetime(2030, 1, 1, tzinfo=UTC)
        for n, camera_id in enumerate(ids[:20]):
            capture_camera.apply_async(
                (camera_id, (base - timedelta(seconds=n + 1)).isoformat()), queue="capture"
            )
        deadline = time.time() + 60
        while Image.objects.count() < 20 and time.time() < deadline:
            time.sleep(0.2)

        total = int(args.rate * args.seconds)
        sent_at: dict[tuple[int, datetime], float] = {}
        cpu_before = cpu_snapshot([w.pid for w in workers], camera_proc.pid, bucket_proc and bucket_proc.pid)
        enqueue_cpu = time.process_time()
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
        enqueue_cpu = time.process_time() - enqueue_cpu
        deadline = time.time() + max(120, args.seconds * 5)
        while Image.objects.filter(capture_slot__gte=base).count() < total and time.time() < deadline:
            time.sleep(0.25)
        cpu_after = cpu_snapshot([w.pid for w in workers], camera_proc.pid, bucket_proc and bucket_proc.pid)
        load = os.getloadavg()[0]

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
        if S3:
            files = bucket_objects(endpoint)
        else:
            files = sum(1 for p in (data_dir / "images").rglob("*.jpg") if p.stat().st_mtime >= start)
        print(f"cameras={args.cameras}")
        print(f"tasks={total}")
        print(f"enqueue_rate_per_s={total / enqueue_seconds:.1f}")
        print(f"images_stored={done}")
        print(f"{'objects_in_bucket' if S3 else 'files_on_disk'}={files}")
        print(f"missing={total - done}")
        print(f"ingest_captures_per_s{'_s3' if S3 else ''}={done / elapsed:.1f}")
        print(f"ingest_latency_p50_ms={latencies[len(latencies) // 2]:.1f}")
        print(f"ingest_latency_p99_ms={latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]:.1f}")
        per = {name: (cpu_after[name] - cpu_before[name]) * 1000 / max(1, done) for name in cpu_before}
        per["enqueue"] = enqueue_cpu * 1000 / max(1, total)
        for name in ("worker", "camera", "postgres", "redis", *(["bucket"] if S3 else []), "enqueue"):
            print(f"{name}_cpu_ms_per_capture={per[name]:.2f}")
        pipeline = sum(per.values())
        print(f"pipeline_cpu_ms_per_capture={pipeline:.2f}")
        print(f"projected_captures_per_s_2_idle_cores={2000 / pipeline:.0f}")
        print(f"load_average_1min={load:.1f}")
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        worker_log.close()
        camera_proc.kill()
        camera_proc.wait()
        if bucket_proc is not None:
            bucket_proc.kill()
            bucket_proc.wait()
        from django.db import connections

        connections.close_all()
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)
        drop_database()


if __name__ == "__main__":
    main()
