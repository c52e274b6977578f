"""The scrub-preview sprite of a joined video (the continuous video, the period videos).

A batch render draws its sprite from the decode it already makes (batches.renditions). A joined
video has no decode: its days are stream-copied. Decoding the whole join for 100 thumbnails
would cost more than the join itself (tens of thousands of frames, re-joined at every update),
so only key frames are decoded: every day segment starts with one, and x264 adds one at least
every 250 frames and at scene cuts. A bitstream filter between the demuxer and the decoder
keeps the first key frame at or after each of the sprite's evenly spaced times and drops every
other packet, so at most the sprite's thumbnail count (100) is decoded whatever the video's
length. A short video with few key frames shows each of them (one per day at least), a long
one evenly spaced ones. The cue times are the kept frames' own timestamps, read back from
ffmpeg, so each thumbnail is the picture at the start of its cue. Tiling and cue text are
renditions.Sprite's."""

from __future__ import annotations

import re
from pathlib import Path

from batches import ffmpeg, renditions
from batches.ffmpeg import RenderError

# The kept frames' timestamps, written by ffmpeg's metadata filter (one "pts_time:" line each).
TIMES_FILE = "sprite-times.txt"
PTS_TIME = re.compile(r"pts_time:(\S+)")
# Slack on the evenly spaced times: a frame's timestamp is rounded to its time base, and a
# frame a hair before its slot's start would otherwise give way to the next key frame.
EPSILON = 1e-6


def files(final: Path) -> dict[str, tuple[Path, Path]]:
    """The sprite and cue files of the video published as `final`: role -> (partial, published name).

    The same published names as a batch render's (renditions.publishable); the partials are
    dot-names ending in .part beside the video, so batches.partials clears a killed attempt's.
    """
    published = {role: renditions.published_still(final, role) for role in ("sprite", "vtt")}
    return {role: (name.with_name(f".{name.name}.part"), name) for role, name in published.items()}


def pick(sprite: renditions.Sprite, duration: float) -> str:
    """The bitstream filter that passes a key frame when it reaches the next evenly spaced time,
    moves that time on past it, and drops every other packet (noise's `drop` is true to drop).

    Variable 0 holds the next time; pts*tb is the packet's time in seconds. The first packet
    (n=0, the first day's key frame) is always kept, even if its time is a hair below 0.
    """
    step = duration / sprite.count
    moved_on = f"st(0\\,(floor(pts*tb/{step:.9f}+{EPSILON:.9f})+1)*{step:.9f})"
    return f"noise=drop='if(key*(eq(n\\,0)+gte(pts*tb+{EPSILON:.9f}\\,ld(0)))\\,0*{moved_on}\\,1)'"


def write(
    written: dict[str, tuple[Path, Path]],
    video: Path,
    frames: int,
    fps: int,
    workdir: Path,
) -> int:
    """Make the sprite and its cues for `video` (`frames` frames at `fps`) into the partials of
    files(); returns how many thumbnails it holds."""
    sprite = renditions.Sprite.for_video(frames, *ffmpeg.video_size(video))
    duration = frames / fps
    times = workdir / TIMES_FILE
    times.unlink(missing_ok=True)
    graph = ",".join([
        # The print filter writes only frames that carry metadata: give each kept one a mark.
        "metadata=mode=add:key=timelapser_thumb:value=1",
        f"metadata=mode=print:file={TIMES_FILE}",
        sprite.tiles(),
    ])  # fmt: skip
    image = written["sprite"][0]
    ffmpeg.still(video, image, workdir, graph, packets=pick(sprite, duration))
    starts = [float(m.group(1)) for m in PTS_TIME.finditer(times.read_text())] if times.is_file() else []
    if not starts or not image.is_file():
        raise RenderError(f"ffmpeg made no scrub sprite for {video.name}.")
    # The first cue starts at 0 whatever the first timestamp says, the last ends with the video.
    starts[0] = 0.0
    spans = list(zip(starts, [*starts[1:], duration], strict=True))
    written["vtt"][0].write_text(sprite.cues("sprite.jpg", spans))
    return len(spans)
