"""Render speed and memory: our render (with the Day overlay) against bare ffmpeg, and continuous updates.

Run from the repo root: `.venv/bin/python bench/render.py`. Sets up its own SQLite
database and data dir in a temp folder (BENCH_DATABASE_URL picks another database). Prints:
  render_fps_ratio          ours / bare `ffmpeg -framerate 30 -i %05d.jpg` (same x264 preset, crf 23)
  render_peak_rss_mb        peak RSS of this process + ffmpeg children, 300 frames
  render_peak_rss_3000_mb   the same for 3,000 frames
  continuous_update_ratio   1 new day on top of 100 days / on top of 1 day
  render_quality_fps_ratio  ours with deflicker, Day badge and a watermark logo / bare ffmpeg, same frames
  renditions_ratio_1080p    full + web from one render / the two rendered separately (CPU s; wall beside
                            it), 1080p frames: one encode serves both (renditions_encodes_1080p=1)
  renditions_ratio_1440p    the same for 2560x1440 frames: full 1440p + web 1080p, two x264 encodes
                            from one decode; both with deflicker, Day badge and logo
  renditions_peak_rss_3000_mb_*  peak RSS (this process + ffmpeg) of that render of 3,000 frames
BENCH_ONLY=render,continuous,long,quality,renditions picks parts (renditions is not in the default set);
BENCH_LONG_FRAMES (3000) sizes the long runs; BENCH_RENDITIONS_SIZES (1920x1080,2560x1440) the
renditions cases, BENCH_RENDITIONS_LONG=0 skips their 3,000-frame runs.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import inprocess

WORK = inprocess.setup("render")

import hashlib  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from PIL import Image as PILImage  # noqa: E402
from PIL import ImageDraw  # noqa: E402

from batches import (  # noqa: E402
    continuous,
    ffmpeg,
    frames,
    render,
    watermark,
)
from batches.models import RenderSettings, TimelapseBatch  # noqa: E402
from batches.selection import Selection, create_batch  # noqa: E402
from cameras.models import Camera  # noqa: E402
from captures.models import Image  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
LONG_FRAMES = int(os.environ.get("BENCH_LONG_FRAMES", "3000"))
START = datetime(2026, 1, 1, 6, tzinfo=UTC)
# Under images/: the render reads frames only from inside the media folders (common/paths.py).
FRAMES_DIR = Path(settings.DATA_DIR) / "images" / "bench-frames"


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            stack.extend(children)
    return found


class PeakRss:
    """Samples the RSS of this process and all its children (ffmpeg) every 20 ms."""

    def __enter__(self):
        self.peak_kb = 0
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        me = os.getpid()
        while self.running:
            total = rss_kb(me) + sum(rss_kb(child) for child in descendants(me))
            self.peak_kb = max(self.peak_kb, total)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    @property
    def mb(self) -> float:
        return self.peak_kb / 1024


def synthetic_jpeg(i: int, size=(1920, 1080)) -> bytes:
    """A 1080p frame with enough detail to cost the encoder something, different per frame."""
    rng = random.Random(i)
    image = PILImage.new("RGB", size, ((i * 7) % 256, 90, 160))
    draw = ImageDraw.Draw(image)
    for _ in range(400):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle(
            [x, y, x + rng.randrange(5, 60), y + rng.randrange(5, 60)], fill=(rng.randrange(256),) * 3
        )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def make_frames(folder: Path, count: int, size=(1920, 1080)) -> list[tuple[str, int, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(1, count + 1):
        data = synthetic_jpeg(i, size)
        path = folder / f"{i:05d}.jpg"
        path.write_bytes(data)
        rows.append((str(path.relative_to(settings.DATA_DIR)), len(data), hashlib.sha256(data).hexdigest()))
    return rows


def add_images(camera: Camera, files, count: int, start: datetime, per_day: int) -> None:
    images = []
    for n in range(count):
        rel, size, digest = files[n % len(files)]
        at = start + timedelta(days=n // per_day, seconds=30 * (n % per_day))
        images.append(Image(camera=camera, filename=Path(rel).name, file_path=rel, file_size_bytes=size,
                            file_hash=digest, format="JPEG", width=1920, height=1080, captured_at=at))  # fmt: skip
    Image.objects.bulk_create(images, batch_size=2000)


def overlay_camera(name: str) -> Camera:
    return Camera.objects.create(
        name=name,
        url_hash=hashlib.sha256(name.encode()).hexdigest(),
        timezone="UTC",
        day_counter_enabled=True,
        day_counter_start_date=START.date(),
        day_overlay_position="bottom-right",
    )


def time_ours(camera: Camera) -> tuple[float, TimelapseBatch]:
    batch = create_batch(camera, Selection(fps=30))
    started = time.perf_counter()
    batch = render.render_batch(batch.pk)
    elapsed = time.perf_counter() - started
    assert batch.status == "completed", batch.error_message
    return elapsed, batch


def time_bare(folder: Path, out: Path) -> float:
    command = [ffmpeg.ffmpeg_exe(), "-v", "error", "-y", "-framerate", "30", "-i", str(folder / "%05d.jpg"),
               "-c:v", "libx264", "-preset", settings.TIMELAPSER_RENDER_PRESET, "-crf",
               str(settings.TIMELAPSER_RENDER_CRF), str(out)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def bench_render() -> tuple[Camera, list]:
    folder = FRAMES_DIR
    files = make_frames(folder, 300)
    camera = overlay_camera("bench-300")
    add_images(camera, files, 300, START, per_day=100)  # 3 days: three Day N badges
    ours, bare = [], []
    with PeakRss() as peak:
        for _ in range(ROUNDS):
            bare.append(time_bare(folder, WORK / "bare.mp4"))
            elapsed, batch = time_ours(camera)
            ours.append(elapsed)
            frames.data_path(batch.output_path).unlink()
    # The sampler also saw the bare ffmpeg runs: this peak bounds ours from above.
    ratio = statistics.median(bare) / statistics.median(ours)
    print(f"render_seconds_ours={statistics.median(ours):.2f}")
    print(f"render_seconds_bare={statistics.median(bare):.2f}")
    print(f"render_fps_ours={300 / statistics.median(ours):.1f}")
    print(f"render_fps_bare={300 / statistics.median(bare):.1f}")
    print(f"render_fps_ratio={ratio:.3f}")
    print(f"render_peak_rss_mb={peak.mb:.0f}")
    return camera, files


def bench_long(files) -> None:
    """Memory does not grow with the number of frames: the same 300 files, ten times over."""
    big = overlay_camera("bench-3000")
    add_images(big, files, LONG_FRAMES, START, per_day=300)
    with PeakRss() as peak:
        time_ours(big)
    print(f"render_peak_rss_{LONG_FRAMES}_mb={peak.mb:.0f}")


def logo_png() -> bytes:
    """A 400x200 logo with soft transparency, like a real one (the alpha matters to the overlay)."""
    logo = PILImage.new("RGBA", (400, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse([0, 0, 199, 199], fill=(240, 180, 20, 220))
    draw.rectangle([210, 60, 399, 140], fill=(255, 255, 255, 160))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    return buffer.getvalue()


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (ffmpeg): steady on a shared machine."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def bench_quality(files) -> None:
    """Finishing costs little: deflicker + badge + logo in the one encode against bare ffmpeg.

    Wall time on a busy 2-core machine swings with the neighbours; CPU seconds
    (ours includes the Python around ffmpeg) are printed beside it.
    """
    folder = FRAMES_DIR
    camera = overlay_camera("bench-quality")
    finishing = RenderSettings(camera=camera, deflicker=True, watermark_position="top-left")
    watermark.store(finishing, logo_png())
    finishing.save()
    add_images(camera, files, 300, START, per_day=100)
    ours, bare, ours_cpu, bare_cpu = [], [], [], []
    for _ in range(ROUNDS):
        before = cpu_seconds()
        bare.append(time_bare(folder, WORK / "bare.mp4"))
        bare_cpu.append(cpu_seconds() - before)
        before = cpu_seconds()
        elapsed, batch = time_ours(camera)
        ours_cpu.append(cpu_seconds() - before)
        ours.append(elapsed)
        frames.data_path(batch.output_path).unlink()
    print(f"render_quality_seconds_ours={statistics.median(ours):.2f}")
    print(f"render_quality_seconds_bare={statistics.median(bare):.2f}")
    print(f"render_quality_fps_ratio={statistics.median(bare) / statistics.median(ours):.3f}")
    print(f"render_quality_cpu_seconds_ours={statistics.median(ours_cpu):.2f}")
    print(f"render_quality_cpu_seconds_bare={statistics.median(bare_cpu):.2f}")
    print(f"render_quality_cpu_ratio={statistics.median(bare_cpu) / statistics.median(ours_cpu):.3f}")


def timed_update(camera: Camera) -> float:
    started = time.perf_counter()
    batch = render.render_batch(continuous.request_update(camera, queue=False).pk)
    elapsed = time.perf_counter() - started
    assert batch.status == "completed", batch.error_message
    return elapsed


def bench_continuous() -> None:
    folder = FRAMES_DIR.with_name("bench-frames-720")
    files = make_frames(folder, 30, size=(1280, 720))
    short, long = overlay_camera("bench-1-day"), overlay_camera("bench-100-days")
    for camera in (short, long):
        camera.continuous_mode = "periodic"
        camera.save()
    # History: 1 day vs 100 days of 6 frames each, rendered once (not timed).
    add_images(short, files, 6, START, per_day=6)
    add_images(long, files, 600, START, per_day=6)
    timed_update(short)
    timed_update(long)
    short_times, long_times = [], []
    for round_ in range(ROUNDS):
        # One new day of 30 frames for each, interleaved.
        add_images(short, files, 30, START + timedelta(days=1 + round_), per_day=30)
        short_times.append(timed_update(short))
        add_images(long, files, 30, START + timedelta(days=100 + round_), per_day=30)
        long_times.append(timed_update(long))
    print(f"continuous_update_seconds_1_day={statistics.median(short_times):.2f}")
    print(f"continuous_update_seconds_100_days={statistics.median(long_times):.2f}")
    print(f"continuous_update_ratio={statistics.median(long_times) / statistics.median(short_times):.3f}")


def finished_camera(name: str, files, count: int, max_width: int | None = None) -> Camera:
    """A camera with deflicker, the Day badge and a logo, and `count` of the bench frames."""
    camera = overlay_camera(name)
    if max_width:
        Camera.objects.filter(pk=camera.pk).update(render_max_width=max_width)
        camera.refresh_from_db()
    finishing = RenderSettings(camera=camera, deflicker=True, watermark_position="top-left")
    watermark.store(finishing, logo_png())
    finishing.save()
    add_images(camera, files, count, START, per_day=100)
    return camera


def render_kinds(camera: Camera, kinds: str) -> tuple[float, float, dict[str, int]]:
    """(wall, CPU seconds, bytes per video) of one render writing these renditions; files removed after."""
    batch = create_batch(camera, Selection(fps=30))
    TimelapseBatch.objects.filter(pk=batch.pk).update(selection={**batch.selection, "renditions": kinds})
    before_cpu, started = cpu_seconds(), time.perf_counter()
    batch = render.render_batch(batch.pk)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - before_cpu
    assert batch.status == "completed", batch.error_message
    renditions = batch.published_renditions or {}
    sizes = {"full": batch.published_size_bytes}
    sizes |= {kind: value["size"] for kind, value in renditions.items() if isinstance(value, dict)}
    for value in [batch.published_path, *renditions.values()]:
        frames.data_path(value["path"] if isinstance(value, dict) else value).unlink()
    return wall, cpu, sizes


def renditions_case(label: str, files, size: tuple[int, int]) -> None:
    """Full + web from one render against a full render plus a separate <= 1080p render.

    At or below the web limit the full video is the web one: one encode, published
    for both, and the bench says so (renditions_encodes_*). Above it two x264
    encodes share one decode and the finishing.
    """
    both = finished_camera(f"bench-renditions-{label}", files, 300)
    full_only = finished_camera(f"bench-renditions-{label}-full", files, 300)
    limit = settings.TIMELAPSER_WEB_RENDITION_HEIGHT
    web_width = round(size[0] * min(1, limit / size[1]))
    web_only = finished_camera(f"bench-renditions-{label}-web", files, 300, max_width=web_width)
    one, two = [], []
    for _ in range(ROUNDS):
        one.append(render_kinds(both, "web,full"))
        a, b = render_kinds(full_only, "full"), render_kinds(web_only, "full")
        two.append((a[0] + b[0], a[1] + b[1], {"full": a[2]["full"], "web": b[2]["full"]}))
    wall_one, cpu_one = (statistics.median(x[i] for x in one) for i in (0, 1))
    wall_two, cpu_two = (statistics.median(x[i] for x in two) for i in (0, 1))
    sizes_one, sizes_two = one[-1][2], two[-1][2]
    print(f"renditions_encodes_{label}={len([k for k in sizes_one if k in ('full', 'web')])}")
    print(f"renditions_cpu_seconds_one_decode_{label}={cpu_one:.2f}")
    print(f"renditions_cpu_seconds_separate_{label}={cpu_two:.2f}")
    print(f"renditions_ratio_{label}={cpu_one / cpu_two:.3f}")
    print(f"renditions_wall_seconds_one_decode_{label}={wall_one:.2f}")
    print(f"renditions_wall_seconds_separate_{label}={wall_two:.2f}")
    print(f"renditions_wall_ratio_{label}={wall_one / wall_two:.3f}")
    web_one = sizes_one.get("web", sizes_one["full"])
    print(f"renditions_web_bytes_{label}={web_one} (separate render: {sizes_two['web']})")
    print(f"renditions_full_bytes_{label}={sizes_one['full']} (separate render: {sizes_two['full']})")
    print(f"load_average_{label}={os.getloadavg()[0]:.1f}")
    sys.stdout.flush()


def bench_renditions() -> None:
    """The share page's web rendition and the download's full one: 1080p frames (one encode serves
    both) and 1440p frames (a 1080p web rendition beside the full one), with deflicker, badge, logo."""
    cases = os.environ.get("BENCH_RENDITIONS_SIZES", "1920x1080,2560x1440").split(",")
    for case in cases:
        width, height = (int(n) for n in case.split("x"))
        label = f"{height}p"
        files = make_frames(FRAMES_DIR.with_name(f"bench-frames-{label}"), 300, size=(width, height))
        renditions_case(label, files, (width, height))
        if os.environ.get("BENCH_RENDITIONS_LONG", "1") == "1":
            big = finished_camera(f"bench-renditions-long-{label}", files, LONG_FRAMES)
            with PeakRss() as peak:
                render_kinds(big, "web,full")
            print(f"renditions_peak_rss_{LONG_FRAMES}_mb_{label}={peak.mb:.0f}")
            print(f"load_average_after_long_{label}={os.getloadavg()[0]:.1f}")
            sys.stdout.flush()


def main() -> None:
    call_command("migrate", verbosity=0)
    print(f"preset={settings.TIMELAPSER_RENDER_PRESET}")
    print(f"cpus={os.cpu_count()}")
    print(f"load_average_before={os.getloadavg()[0]:.1f}")
    parts = os.environ.get("BENCH_ONLY", "render,continuous,long,quality").split(",")
    files = None
    if "render" in parts:
        _, files = bench_render()
        sys.stdout.flush()
    if "continuous" in parts:
        bench_continuous()
        sys.stdout.flush()
    if "quality" in parts:
        files = files or make_frames(FRAMES_DIR, 300)
        bench_quality(files)
        sys.stdout.flush()
    if "long" in parts:
        files = files or make_frames(FRAMES_DIR, 300)
        bench_long(files)
    if "renditions" in parts:
        bench_renditions()


if __name__ == "__main__":
    main()
