"""A joined video's scrub sprite (batches.scrubsprite) against the join it follows.

Run from the repo root: `.venv/bin/python bench/scrubsprite.py`. No database: it encodes
BENCH_DAYS (30) day segments of BENCH_FRAMES_PER_DAY (100) frames at 1920x1080, 30 fps, with the
render's x264 preset and crf (a moving test picture with sensor-like noise, so the key frames cost
what a camera's do), then times, interleaved over BENCH_ROUNDS (3):
  join         ffmpeg.concat of every segment (stream copy), as the continuous video's update
  sprite       scrubsprite.write on the join: decode only the key frames it keeps, tile, cues
  decode       a decode of every frame of the join scaled to thumbnails: what the sprite would
               cost made like a batch render's (renditions.Sprite.chain), for comparison
  long_join, long_sprite   the same on the segments joined BENCH_REPEAT (10) times over (300
               days, 30,000 frames): the sprite's cost must not grow with the video
The day encode (one segment, what an update re-encodes) is timed while the segments are made.
Prints CPU seconds (the finished ffmpeg children's user + system; steadier than wall on a shared
machine) and wall seconds as medians, the sprite's share of the join, and the load average."""

from __future__ import annotations

import os
import resource
import statistics
import time
from pathlib import Path

import inprocess

WORK = inprocess.setup("scrubsprite")

import shutil  # noqa: E402

from django.conf import settings  # noqa: E402

from batches import ffmpeg, renditions, scrubsprite  # noqa: E402

DAYS = int(os.environ.get("BENCH_DAYS", "30"))
PER_DAY = int(os.environ.get("BENCH_FRAMES_PER_DAY", "100"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "10"))
SIZE = (1920, 1080)
FPS = 30


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(action) -> tuple[float, float]:
    cpu, wall = children_cpu(), time.monotonic()
    action()
    return children_cpu() - cpu, time.monotonic() - wall


def segments(folder: Path) -> list[Path]:
    """One segment per day, encoded as a continuous video's are (no index rewrite at the front)."""
    made = []
    for day in range(DAYS):
        target = folder / f"day-{day:03d}.mp4"
        source = f"testsrc2=s={SIZE[0]}x{SIZE[1]}:r={FPS},noise=alls=8:allf=t,format=yuv420p"
        ffmpeg._run(  # the app's runner: same binary, same limits
            ["-f", "lavfi", "-i", source, "-frames:v", str(PER_DAY), "-fps_mode", "passthrough",
             *renditions.encoder_args("full", settings.TIMELAPSER_RENDER_PRESET, settings.TIMELAPSER_RENDER_CRF),
             "-an", "-f", "mp4", "-y", str(target)],
            folder,
        )  # fmt: skip
        made.append(target)
    return made


def main() -> None:
    folder = WORK / "segments"
    folder.mkdir(parents=True)
    frames = DAYS * PER_DAY
    print(f"encoding {DAYS} segments of {PER_DAY} frames at {SIZE[0]}x{SIZE[1]} ...", flush=True)
    days: list[Path] = []
    encode_cpu, _ = measured(lambda: days.extend(segments(folder)))
    joined, long_joined = WORK / "joined.mp4", WORK / "long.mp4"
    sprite = renditions.Sprite.for_video(frames, *SIZE)
    results: dict[str, list[tuple[float, float]]] = {
        k: [] for k in ("join", "sprite", "decode", "long_join", "long_sprite")
    }
    thumbs: dict[str, int] = {}
    for round_ in range(ROUNDS):
        scratch = WORK / f"round-{round_}"
        scratch.mkdir()
        for prefix, video, inputs, count in (
            ("", joined, days, frames),
            ("long_", long_joined, days * REPEAT, frames * REPEAT),
        ):
            results[f"{prefix}join"].append(measured(lambda v=video, i=inputs: ffmpeg.concat(i, v, scratch)))  # noqa: B023
            files = scrubsprite.files(WORK / f"{prefix}video.mp4")

            def make_sprite(files=files, video=video, count=count, prefix=prefix, scratch=scratch):
                thumbs[prefix] = scrubsprite.write(files, video, count, FPS, scratch)

            results[f"{prefix}sprite"].append(measured(make_sprite))
        decode_all = sprite.chain(frames)
        results["decode"].append(
            measured(lambda: ffmpeg.still(joined, scratch / "all.jpg", scratch, decode_all))  # noqa: B023
        )
        shutil.rmtree(scratch)
    median = {k: tuple(statistics.median(v[i] for v in rows) for i in (0, 1)) for k, rows in results.items()}
    print(f"scrubsprite_day_encode_cpu_s={encode_cpu / DAYS:.2f}")
    for name, (cpu, wall) in median.items():
        print(f"scrubsprite_{name}_cpu_s={cpu:.2f} scrubsprite_{name}_wall_s={wall:.2f}")
    print(f"scrubsprite_frames={frames} scrubsprite_thumbnails={thumbs['']} "
          f"scrubsprite_long_frames={frames * REPEAT} scrubsprite_long_thumbnails={thumbs['long_']} "
          f"joined_mb={joined.stat().st_size / 1e6:.1f}")  # fmt: skip
    print(f"scrubsprite_sprite_over_join_cpu={median['sprite'][0] / median['join'][0]:.2f}")
    print(f"scrubsprite_long_sprite_over_join_cpu={median['long_sprite'][0] / median['long_join'][0]:.2f}")
    print(f"scrubsprite_decode_over_sprite_cpu={median['decode'][0] / median['sprite'][0]:.1f}")
    print(f"load_average={os.getloadavg()[0]:.2f}")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
