"""Period videos: a refresh after one new day against rendering the whole period again.

Run from the repo root: `.venv/bin/python bench/periods.py`. Sets up its own SQLite database
and data dir in a temp folder (BENCH_DATABASE_URL picks another database). A "whole project"
period video of BENCH_DAYS (30) days of BENCH_FRAMES_PER_DAY (48) 720p frames is rendered once;
then each round adds one new day and times, interleaved:
  refresh   sharing.periods.refresh + the render it queues (encode the new day, join the kept ones)
  full      the same frames rendered from scratch as one batch, which every refresh did before
Prints wall and CPU seconds (this process + its finished ffmpeg children; steadier than wall on a
shared machine) as medians over BENCH_ROUNDS (3), their ratios, and the load average.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from datetime import timedelta
from pathlib import Path

import inprocess

WORK = inprocess.setup("periods")

import hashlib  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from PIL import Image as PILImage  # noqa: E402
from PIL import ImageDraw  # noqa: E402

from batches import frames, render  # noqa: E402
from batches.models import TimelapseBatch  # noqa: E402
from batches.selection import Selection, create_batch  # noqa: E402
from cameras.models import Camera  # noqa: E402
from captures.models import Image  # noqa: E402
from sharing import periods  # noqa: E402
from sharing.models import PeriodVideo  # noqa: E402

DAYS = int(os.environ.get("BENCH_DAYS", "30"))
PER_DAY = int(os.environ.get("BENCH_FRAMES_PER_DAY", "48"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SIZE = (1280, 720)
# Under images/: the render reads frames only from inside the media folders (common/paths.py).
FRAMES_DIR = Path(settings.DATA_DIR) / "images" / "bench-periods"


def cpu_seconds() -> float:
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def synthetic_jpeg(i: int) -> bytes:
    """A frame with enough detail to cost the encoder something, different per frame."""
    rng = random.Random(i)
    image = PILImage.new("RGB", SIZE, ((i * 7) % 256, 90, 160))
    draw = ImageDraw.Draw(image)
    for _ in range(300):
        x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        draw.rectangle(
            [x, y, x + rng.randrange(5, 50), y + rng.randrange(5, 50)], fill=(rng.randrange(256),) * 3
        )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def make_files(count: int) -> list[tuple[str, int, str]]:
    FRAMES_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        data = synthetic_jpeg(i)
        path = FRAMES_DIR / f"{i:05d}.jpg"
        path.write_bytes(data)
        rows.append((str(path.relative_to(settings.DATA_DIR)), len(data), hashlib.sha256(data).hexdigest()))
    return rows


def add_day(camera: Camera, files, day_start) -> None:
    """One day of PER_DAY captures from 06:00 every 15 minutes (files reused: the rows are distinct)."""
    rows = []
    for n, (rel, size, digest) in enumerate(files):
        at = day_start + timedelta(hours=6, minutes=15 * n)
        rows.append(Image(camera=camera, filename=Path(rel).name, file_path=rel, file_size_bytes=size,
                          file_hash=digest, format="JPEG", width=SIZE[0], height=SIZE[1], captured_at=at))  # fmt: skip
    Image.objects.bulk_create(rows)


def timed(work) -> tuple[float, float, object]:
    cpu, wall = cpu_seconds(), time.perf_counter()
    result = work()
    return time.perf_counter() - wall, cpu_seconds() - cpu, result


def refresh_and_render(period: PeriodVideo, now) -> TimelapseBatch:
    outcome = periods.refresh(PeriodVideo.objects.get(pk=period.pk), now)
    assert outcome == "queued", outcome
    batch = render.render_batch(PeriodVideo.objects.get(pk=period.pk).batch_id)
    assert batch.status == "completed", batch.error_message
    return batch


def full_render(camera: Camera) -> TimelapseBatch:
    batch = render.render_batch(create_batch(camera, Selection(fps=settings.TIMELAPSER_CONTINUOUS_FPS)).pk)
    assert batch.status == "completed", batch.error_message
    return batch


def main() -> None:
    call_command("migrate", verbosity=0)
    print(f"cpus={os.cpu_count()}")
    print(f"load_average_before={os.getloadavg()[0]:.1f}")
    print(f"days={DAYS}")
    print(f"frames_per_day={PER_DAY}")
    files = make_files(PER_DAY)
    camera = Camera.objects.create(name="bench-periods", url_hash="b" * 64, timezone="UTC",
                                   day_counter_enabled=True)  # fmt: skip
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DAYS + ROUNDS)
    for day in range(DAYS):
        add_day(camera, files, start + timedelta(days=day))
    periods.set_enabled(camera, {PeriodVideo.Kind.WHOLE_PROJECT})
    period = PeriodVideo.objects.get(camera=camera, kind=PeriodVideo.Kind.WHOLE_PROJECT)
    first_wall, first_cpu, batch = timed(
        lambda: refresh_and_render(period, start + timedelta(days=DAYS - 1, hours=23))
    )
    print(f"period_first_render_seconds={first_wall:.2f}")
    print(f"period_first_render_cpu_seconds={first_cpu:.2f}")
    refresh_wall, refresh_cpu, full_wall, full_cpu = [], [], [], []
    for round_ in range(ROUNDS):
        day = start + timedelta(days=DAYS + round_)
        add_day(camera, files, day)
        wall, cpu, batch = timed(lambda day=day: refresh_and_render(period, day + timedelta(hours=23)))
        refresh_wall.append(wall)
        refresh_cpu.append(cpu)
        assert batch.published_frames == PER_DAY * (DAYS + round_ + 1), batch.published_frames
        wall, cpu, full = timed(lambda: full_render(camera))
        full_wall.append(wall)
        full_cpu.append(cpu)
        assert full.published_frames == batch.published_frames
        frames.data_path(full.published_path).unlink()
    print(f"period_refresh_seconds={statistics.median(refresh_wall):.2f}")
    print(f"period_refresh_cpu_seconds={statistics.median(refresh_cpu):.2f}")
    print(f"period_full_render_seconds={statistics.median(full_wall):.2f}")
    print(f"period_full_render_cpu_seconds={statistics.median(full_cpu):.2f}")
    print(f"period_refresh_ratio={statistics.median(refresh_wall) / statistics.median(full_wall):.3f}")
    print(f"period_refresh_cpu_ratio={statistics.median(refresh_cpu) / statistics.median(full_cpu):.3f}")
    print(f"load_average_after={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
