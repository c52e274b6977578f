"""Load on a share page: gunicorn (2 workers) on PostgreSQL, driven by wrk for 30 s.

Run from the repo root:  .venv/bin/python bench/share_load.py
Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust), Redis at 127.0.0.1:6379,
wrk (Debian: `apt-get install wrk`; elsewhere https://github.com/wg/wrk). Sets up its own database (tl_bench_share) and data dir.
Prints share_rps, share_p99_ms, share_errors, share_range_mb_per_s (name=value lines).

Options via environment: BENCH_DURATION (s, default 30), BENCH_CONNECTIONS (default 16),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/3), BENCH_WORKER_CLASS (default sync, as in the Procfile),
BENCH_THREADS (gthread only, default 4).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import imageio_ffmpeg
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "tl_bench_share"
PG = "postgres://postgres@127.0.0.1:5432"
DURATION = int(os.environ.get("BENCH_DURATION", "30"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def make_videos(data_dir: Path) -> list[str]:
    """Three real H.264 MP4s; the first is large (noisy, high bitrate) for the Range stream."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    (data_dir / "videos").mkdir(parents=True)
    paths = []
    for n, source in enumerate(
        [
            "testsrc2=size=1280x720:rate=30,noise=alls=60:allf=t",
            "testsrc=size=640x360:rate=30",
            "smptebars=size=640x360:rate=30",
        ]
    ):
        relative = f"videos/bench_{n}.mp4"
        length = "4" if n == 0 else "3"
        rate = ["-b:v", "150M", "-maxrate", "150M", "-bufsize", "150M"] if n == 0 else []
        subprocess.run(
            [ffmpeg, "-v", "error", "-f", "lavfi", "-i", source, "-t", length, "-c:v", "libx264",
             "-preset", "ultrafast", *rate, "-pix_fmt", "yuv420p", "-movflags", "+faststart",
             str(data_dir / relative)],
            check=True,
        )  # fmt: skip
        paths.append(relative)
    return paths


SEED = """
import sys
from django.utils import timezone
from batches.models import TimelapseBatch
from cameras.models import Camera
from sharing import services
from sharing.models import ShareCustomization

camera = Camera.objects.create(name="Bench camera", url_hash="0" * 64)
batches = []
for n, path in enumerate(sys.argv[1:]):
    batches.append(TimelapseBatch.objects.create(
        camera=camera, batch_type="manual", generation_mode="manual_only", status="completed",
        output_path=path, output_filename=path.rsplit("/", 1)[-1], frame_rate=30, total_frames=90,
        duration_seconds=3.0, day_range_start=1, day_range_end=n + 1, completed_at=timezone.now(),
        published_path=path, published_at=timezone.now(), published_frames=90,
        published_day_range_start=1, published_day_range_end=n + 1,
    ))
share = services.create_share(batches, "Bench site", share_type="info_page", download_enabled=True,
                               embed_enabled=True, description="Three videos of the bench site")
ShareCustomization.objects.filter(share=share).update(
    display_options={"show_camera_info": True, "show_day_counter": True, "show_date_range": True,
                     "show_technical_info": True, "show_generation_time": True, "layout": "grid"})
link = share.share_batches.order_by("display_order").first()
print(f"/share/{share.token}", f"/share/{share.token}/video/{link.pk}.mp4")
"""


def parse_wrk(output: str) -> dict[str, float]:
    def duration_ms(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p99 = duration_ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return {"rps": rps, "p99": p99, "errors": errors, "requests": requests}


def worker_cpu_seconds(master_pid: int) -> float:
    """User+system CPU of gunicorn's worker processes so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # ppid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def database_cpu_seconds() -> dict[int, float]:
    """User+system CPU so far of each PostgreSQL backend serving the bench database, by pid."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        pids = [
            row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME])
        ]
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def database_cpu_since(before: dict[int, float]) -> float:
    """CPU the bench database's backends used since `before`; a backend that started since
    counts whole, one that ended since (CONN_MAX_AGE) is lost, so this is a lower bound."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in database_cpu_seconds().items())


def range_throughput(url: str, video: Path, seconds: float = 8.0) -> float:
    """Stream the video the way a player does (successive 8 MiB ranges), MB/s over loopback."""
    size = video.stat().st_size
    chunk = 8 * 1024 * 1024
    with video.open("rb") as fh:
        fh.seek(1000)
        expected = fh.read(4096)
    # The bytes must be right, not just fast (gunicorn sends ranges with sendfile).
    probe = httpx.get(url, headers={"Range": "bytes=1000-5095"})
    if probe.status_code != 206 or probe.content != expected:
        raise RuntimeError("range request returned the wrong bytes")
    total = 0
    start = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        while time.perf_counter() - start < seconds:
            for offset in range(0, size, chunk):
                end = min(offset + chunk, size) - 1
                with client.stream("GET", url, headers={"Range": f"bytes={offset}-{end}"}) as response:
                    if response.status_code != 206:
                        raise RuntimeError(f"range request answered {response.status_code}")
                    for part in response.iter_raw(1024 * 1024):
                        total += len(part)
    return total / (time.perf_counter() - start) / 1e6


def main() -> int:
    wrk = shutil.which("wrk")
    if not wrk:
        print(
            "share_load needs wrk, the HTTP load generator, on PATH: apt-get install wrk (Debian)",
            file=sys.stderr,
        )
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="tl-bench-share-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "TIMELAPSER_DATA_DIR": str(data_dir),
        "SECRET_KEY": "bench-only-" + os.urandom(24).hex(),
        "DEBUG": "false",
        "CACHE_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        # The limiter stays on (its Redis round trip is part of every real request), raised
        # so one load-generating client is not throttled.
        "SHARING_RATE_LIMIT": "100000000/m",
        "SHARING_MEDIA_RATE_LIMIT": "100000000/m",
        "LOG_LEVEL": "WARNING",
        "TIMELAPSER_SITE_URL": "http://127.0.0.1",
    }
    python = sys.executable
    server = None
    try:
        recreate_database()
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        videos = make_videos(data_dir)
        seed = subprocess.run(
            [python, "manage.py", "shell", "-c", f"import sys; sys.argv = ['seed', *{videos!r}]\n{SEED}"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        page_path, video_path = seed.stdout.strip().splitlines()[-1].split()
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        port = free_port()
        worker_class = os.environ.get("BENCH_WORKER_CLASS", "sync")  # the Procfile's default
        # gunicorn turns a "sync" worker with --threads > 1 into gthread: pass threads only
        # when gthread is asked for, so the default run is what the Procfile ships.
        threads = ["--threads", os.environ.get("BENCH_THREADS", "4")] if worker_class == "gthread" else []
        server = subprocess.Popen(
            [str(Path(python).parent / "gunicorn"), "timelapser.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--worker-class", worker_class, *threads, "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + page_path).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not come up")
        page = httpx.get(base + page_path).text
        if page.count("<video") != 3:
            raise RuntimeError("the bench page does not show three videos")

        if os.environ.get("BENCH_PAUSE"):
            print(base + page_path, flush=True)
            time.sleep(float(os.environ["BENCH_PAUSE"]))
        cpu_before = worker_cpu_seconds(server.pid)
        db_before = database_cpu_seconds()
        result = subprocess.run(
            [wrk, "-t", "2", "-c", str(CONNECTIONS), "-d", f"{DURATION}s", "--latency", base + page_path],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        figures = parse_wrk(result.stdout)
        cpu_ms = (worker_cpu_seconds(server.pid) - cpu_before) * 1000 / max(figures["requests"], 1)
        db_ms = database_cpu_since(db_before) * 1000 / max(figures["requests"], 1)
        load = os.getloadavg()[0]
        size = (data_dir / videos[0]).stat().st_size
        mb_per_s = range_throughput(base + video_path, data_dir / videos[0])

        print(f"share_rps={figures['rps']:.0f}")
        print(f"share_p99_ms={figures['p99']:.1f}")
        print(f"share_errors={figures['errors']}")
        print(f"share_range_mb_per_s={mb_per_s:.0f}")
        # CPU the gunicorn workers spent per page (not PostgreSQL's or Redis's): on a
        # shared, overloaded machine this says more about the code than rps does.
        print(f"share_worker_cpu_ms_per_request={cpu_ms:.2f}")
        print(f"share_db_cpu_ms_per_request={db_ms:.2f}")
        print(f"share_load_average_1m={load:.2f}")
        print(f"share_video_mb={size / 1e6:.1f}")
        print(f"share_bench_seconds={DURATION}")
        print(f"share_connections={CONNECTIONS}")
        print(f"share_worker_class={worker_class}")
        return 0
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
