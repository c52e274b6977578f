"""Load on a share page: gunicorn (2 workers) on PostgreSQL, driven by wrk for 30 s.

Run from the repo root:  .venv/bin/python bench/share_load.py
Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust), Redis at 127.0.0.1:6379,
wrk (Debian: `apt-get install wrk`; elsewhere https://github.com/wg/wrk). Sets up its own database (tl_bench_share) and data dir.
Prints share_rps, share_p99_ms, share_errors, share_range_mb_per_s (name=value lines).

Options via environment: BENCH_DURATION (s, default 30), BENCH_CONNECTIONS (default 16),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/3), BENCH_WORKER_CLASS (default gthread, as in the Procfile;
or sync), BENCH_THREADS (gthread only, default 4 as in the Procfile).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import imageio_ffmpeg
import wrkload

DB_NAME = "tl_bench_share"
DURATION = int(os.environ.get("BENCH_DURATION", "30"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))


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
    env = wrkload.bench_env(
        DB_NAME,
        data_dir,
        # The limiter stays on (its Redis round trip is part of every real request), raised
        # so one load-generating client is not throttled.
        SHARING_RATE_LIMIT="100000000/m",
        SHARING_MEDIA_RATE_LIMIT="100000000/m",
        TIMELAPSER_SITE_URL="http://127.0.0.1",
    )
    python = sys.executable
    server = None
    try:
        wrkload.recreate_database(DB_NAME)
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=wrkload.ROOT, env=env, check=True
        )
        videos = make_videos(data_dir)
        seed = subprocess.run(
            [python, "manage.py", "shell", "-c", f"import sys; sys.argv = ['seed', *{videos!r}]\n{SEED}"],
            cwd=wrkload.ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        page_path, video_path = seed.stdout.strip().splitlines()[-1].split()
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=wrkload.ROOT,
            env=env,
            check=True,
        )
        port = wrkload.free_port()
        server = wrkload.start_gunicorn(python, env, port, *wrkload.worker_args())
        base = f"http://127.0.0.1:{port}"
        wrkload.wait_until_up(base + page_path)
        page = httpx.get(base + page_path).text
        if page.count("<video") != 3:
            raise RuntimeError("the bench page does not show three videos")

        if os.environ.get("BENCH_PAUSE"):
            print(base + page_path, flush=True)
            time.sleep(float(os.environ["BENCH_PAUSE"]))
        figures = wrkload.run_wrk(wrk, base + page_path, server, DB_NAME, DURATION, CONNECTIONS)
        size = (data_dir / videos[0]).stat().st_size
        mb_per_s = range_throughput(base + video_path, data_dir / videos[0])

        wrkload.print_figures("share", figures, DURATION, CONNECTIONS)
        print(f"share_range_mb_per_s={mb_per_s:.0f}")
        print(f"share_video_mb={size / 1e6:.1f}")
        print(f"share_worker_class={wrkload.worker_class()}")
        return 0
    finally:
        wrkload.stop(server, data_dir)


if __name__ == "__main__":
    sys.exit(main())
