"""Renditions of one render: the full-resolution MP4, a <= 1080p web MP4, an optional AV1, a poster and a
WebVTT thumbnail sprite, all fed by ONE decode of the frames.

The frame graph of batches.ffmpeg ends in a `split`; each branch is one more output of the
same ffmpeg process. Decoding and finishing (deflicker, logo, badge) happen once, which is
what makes two renditions cheaper than two renders (bench/render.py `renditions_ratio`).
The poster and sprite are branches too, so they cost a scale of a few frames, not a decode.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

KINDS = ("web", "full", "av1")
SPRITE_COLUMNS = 10
SPRITE_ROWS = 10
SPRITE_TILE_WIDTH = 160
# With two x264 encoders in one process (a source taller than the web limit), x264's defaults
# would give each 1.5 frame threads per core: 741 MB of ffmpeg at 1440p + 1080p on 2 cores.
# Only the web one gets a 4-frame lookahead instead of veryfast's 10 (~67 MB less): on
# coherent footage a shorter lookahead costs quality at the same CRF (README, "Renditions"),
# which a stream may pay and the full-resolution download, the one people keep, may not.
WEB_LOOKAHEAD = 4
# The web rendition only streams: x264's cheapest motion search (diamond, subpel refinement 1)
# cut its encode CPU by about 30 % for 8.5 % more bytes at SSIM 0.9888 against 0.9892.
WEB_X264 = "subme=1:me=dia"
# One encoder with x264's frame threads: its lookahead thread buffers bframes + 1 more frames
# ahead of the encode. Without that buffer (the lookahead runs in the encoding threads) the
# file is byte for byte the same and took no more CPU or wall time on the bench's 1080p frames,
# and ffmpeg's peak RSS fell from 312 to 281 MB.
SINGLE_X264 = "sync-lookahead=0"


class RenditionError(ValueError):
    """An unknown rendition name (from the command line or a batch's selection)."""


def parse(value: str | list | None) -> tuple[str, ...]:
    """`web,full,av1` -> the kinds, full always included (downloads and continuous joins use it)."""
    if value is None:
        value = settings.TIMELAPSER_RENDITIONS
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [n.strip().lower() for n in names if n and n.strip()]
    unknown = sorted(set(names) - set(KINDS))
    if unknown:
        raise RenditionError(f"Unknown rendition(s): {', '.join(unknown)} (choose from {', '.join(KINDS)}).")
    return tuple(k for k in KINDS if k in names or k == "full")


@dataclass(frozen=True)
class Sprite:
    """A grid of `count` thumbnails, one every `every` frames, `columns` wide."""

    count: int
    columns: int
    every: float
    tile_width: int
    tile_height: int

    @classmethod
    def for_video(cls, frames: int, width: int, height: int) -> Sprite:
        columns = max(1, min(SPRITE_COLUMNS, frames))
        rows = max(1, min(SPRITE_ROWS, frames // columns))
        tile_width = min(SPRITE_TILE_WIDTH, width)
        tile_height = max(2, round(height * tile_width / width / 2) * 2)
        return cls(columns * rows, columns, frames / (columns * rows), tile_width, tile_height)

    @property
    def rows(self) -> int:
        return math.ceil(self.count / self.columns)

    def chain(self, frames: int) -> str:
        """Picks exactly `count` evenly spaced frames (the first, then each time floor(n*count/frames) moves on)."""
        pick = f"eq(n\\,0)+gt(floor(n*{self.count}/{frames})\\,floor((n-1)*{self.count}/{frames}))"
        return f"select='{pick}',{self.tiles()}"

    def tiles(self) -> str:
        """Scales the frames that reach it to thumbnails and lays them out in one grid image."""
        return f"scale={self.tile_width}:{self.tile_height}:flags=bicubic,tile={self.columns}x{self.rows}"

    def vtt(self, image_name: str, fps: int) -> str:
        """WebVTT cues `image_name#xywh=x,y,w,h`, each covering its thumbnail's stretch of the video."""
        return self.cues(
            image_name, [(i * self.every / fps, (i + 1) * self.every / fps) for i in range(self.count)]
        )

    def cues(self, image_name: str, spans: list[tuple[float, float]]) -> str:
        """WebVTT cues for tiles 0, 1, ... in grid order, tile i shown over spans[i] (start, end seconds)."""
        lines = ["WEBVTT", ""]
        for i, (start, end) in enumerate(spans):
            x, y = (i % self.columns) * self.tile_width, (i // self.columns) * self.tile_height
            lines += [
                f"{_stamp(start)} --> {_stamp(end)}",
                f"{image_name}#xywh={x},{y},{self.tile_width},{self.tile_height}",
                "",
            ]
        return "\n".join(lines)


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def web_size(width: int, height: int) -> tuple[int, int] | None:
    """The web rendition's size, or None when the full one already fits (then it is the web one)."""
    limit = settings.TIMELAPSER_WEB_RENDITION_HEIGHT
    if height <= limit:
        return None
    return max(2, round(width * limit / height / 2) * 2), limit


@dataclass(frozen=True)
class Plan:
    """What one encode writes: file paths per kind (partials, renamed on publish) plus poster and sprite."""

    outputs: dict[str, Path]  # kind -> partial file
    web_size: tuple[int, int] | None
    poster: Path | None
    sprite_image: Path | None
    sprite: Sprite | None
    # kind -> x264 threads; empty when one H.264 encoder runs (x264 picks its own threads).
    threads: dict[str, int] = field(default_factory=dict)
    # Day segments are joined, never streamed: no index rewrite at the front.
    faststart: bool = True

    @property
    def shares_encode(self) -> bool:
        """True when the full video is also the web one: one H.264 encode serves both."""
        return "web" not in self.outputs


def plan(kinds: tuple[str, ...], final: Path, attempt: int, width: int, height: int, frames: int) -> Plan:
    """Partial names beside `final` for every output; the web one only when it is smaller than full."""
    size = web_size(width, height)
    outputs = {"full": final}
    if "web" in kinds and size:
        outputs["web"] = final.with_name(final.stem + ".web.mp4")
    if "av1" in kinds:
        outputs["av1"] = final.with_name(final.stem + ".av1.mp4")
    partial = {kind: path.with_name(f".{path.name}.{attempt}.part") for kind, path in outputs.items()}
    poster = final.with_name(f".{final.stem}.poster.jpg.{attempt}.part")
    sprite = final.with_name(f".{final.stem}.sprite.jpg.{attempt}.part")
    web = size if "web" in outputs else None
    threads = split_threads((width, height), web) if web else {}
    return Plan(partial, web, poster, sprite, Sprite.for_video(frames, width, height), threads)


def needs_web(kinds: tuple[str, ...], width: int, height: int) -> bool:
    """Whether a video of this size gets a web rendition: asked for, and taller than the web limit."""
    return "web" in kinds and web_size(width, height) is not None


def web_segment(relative: str) -> str:
    """A day segment's web rendition, beside it: <date>.mp4 -> <date>.web.mp4 (continuous and period videos)."""
    return relative.removesuffix(".mp4") + ".web.mp4"


def segment_file(relative: str, kind: str) -> str:
    """A day segment's file of one rendition ("full" or "web")."""
    return web_segment(relative) if kind == "web" else relative


def prefix_key(kind: str) -> str:
    """Where a joined video's cached prefix (the join of its earlier days) keeps one rendition's path."""
    return "web_path" if kind == "web" else "path"


def joined_web_file(final: Path) -> tuple[Path, Path]:
    """A joined video's web rendition (continuous, period): (partial, published name), the name
    a render's web output is published under (plan)."""
    name = final.with_name(f"{final.stem}.web.mp4")
    return name.with_name(f".{name.name}.part"), name


def segment_plan(partial: Path, web_partial: Path | None, width: int, height: int) -> Plan:
    """A day segment (continuous or period video): the full picture and, with `web_partial` when it
    is taller than the web limit, the web one from the same decode; no poster or sprite."""
    size = web_size(width, height) if web_partial else None
    outputs = {"full": partial, **({"web": web_partial} if size else {})}
    threads = split_threads((width, height), size) if size else {}
    return Plan(outputs, size, None, None, None, threads, faststart=False)


def split_threads(full: tuple[int, int], web: tuple[int, int], cores: int | None = None) -> dict[str, int]:
    """The cores shared between the two H.264 encoders by their pixels, one thread over the cores.

    Both run at once in one ffmpeg; each with x264's own default (1.5 x cores) would
    oversubscribe the machine and double the frame buffers for no speed. An exact split
    (1 + 1 on 2 cores) left the full-resolution encoder, about twice the web one's work,
    running on one core long after the web one was done: the render took nearly as
    long as two separate ones. Rounding the full one's share up lets it take the core the
    web one leaves idle.
    """
    # A layout that caps the render's threads (TIMELAPSER_RENDER_THREADS) caps both encoders' sum
    # (give or take that one thread).
    cores = cores or settings.TIMELAPSER_RENDER_THREADS or os.cpu_count() or 1
    full_px, web_px = full[0] * full[1], web[0] * web[1]
    share = max(1, min(cores, math.ceil(cores * full_px / (full_px + web_px))))
    return {"full": share, "web": max(1, cores + 1 - share)}


def final_name(partial: Path) -> str:
    """`.name.mp4.3.part` -> `name.mp4`."""
    return partial.name[1:].rsplit(".", 2)[0]


def encoder_args(kind: str, preset: str, crf: int, threads: dict[str, int] | None = None) -> list[str]:
    if kind == "av1":
        # SVT-AV1 preset 10 encodes at roughly x264 veryfast's speed; crf 35 is about the
        # size of x264 crf 23 at the same look (AV1's scale runs higher).
        return ["-c:v", "libsvtav1", "-preset", str(settings.TIMELAPSER_AV1_PRESET), "-crf", "35"]
    args = ["-c:v", "libx264", "-preset", preset, "-crf", str(crf)]
    if threads and kind in threads:
        params = [f"rc-lookahead={WEB_LOOKAHEAD}", WEB_X264] if kind == "web" else []
        if threads[kind] > 1:
            # As for a lone encoder: with frame threads x264 would buffer bframes + 1 frames more.
            params.append(SINGLE_X264)
        tuned = ["-x264-params", ":".join(params)] if params else []
        return [*args, "-threads", str(threads[kind]), *tuned]
    # One encoder: x264's own thread count unless the layout caps it (TIMELAPSER_RENDER_THREADS).
    single = settings.TIMELAPSER_RENDER_THREADS
    threaded = [*args, "-threads", str(single)] if single else args
    return [*threaded, "-x264-params", SINGLE_X264]


def graph_tail(p: Plan, frames: int, preset: str, crf: int) -> tuple[str, list[str]]:
    """The split after the frame graph's [v], and every output's arguments (the MP4s first: ffmpeg's
    progress and frame count are those of the first output, the full-resolution video)."""
    stills = ["poster", "sprite"] if p.poster and p.sprite_image and p.sprite else []
    branches = [*p.outputs, *stills]
    labels = "".join(f"[{b}]" for b in branches)
    chains = [f"[v]split={len(branches)}{labels}"]
    maps = {}
    for kind in p.outputs:
        if kind == "web" and p.web_size:
            chains.append(f"[web]scale={p.web_size[0]}:{p.web_size[1]}:flags=bicubic[webout]")
            maps[kind] = "[webout]"
        else:
            maps[kind] = f"[{kind}]"
    args: list[str] = []
    for kind, path in p.outputs.items():
        args += ["-map", maps[kind], "-fps_mode", "passthrough", *encoder_args(kind, preset, crf, p.threads),
                 "-an", *(["-movflags", "+faststart"] if p.faststart else []), "-f", "mp4", "-y", str(path)]  # fmt: skip
    if not stills:
        return ";".join(chains), args
    chains.append("[poster]trim=end_frame=1[posterout]")
    chains.append(f"[sprite]{p.sprite.chain(frames)}[spriteout]")
    for label, path in (("[posterout]", p.poster), ("[spriteout]", p.sprite_image)):
        args += [
            "-map",
            label,
            "-frames:v",
            "1",
            "-q:v",
            "4",
            "-f",
            "image2",
            "-update",
            "1",
            "-y",
            str(path),
        ]
    return ";".join(chains), args


# What each still and cue file beside a video is published as: <video stem><suffix>. Batch
# renders, the continuous video and the period videos all name theirs so.
STILL_SUFFIXES = {"poster": ".poster.jpg", "sprite": ".sprite.jpg", "vtt": ".sprite.vtt"}


def published_still(final: Path, role: str) -> Path:
    """The name the video published as `final` has its poster, sprite or cues under."""
    return final.with_name(final.stem + STILL_SUFFIXES[role])


def publishable(p: Plan, vtt: Path) -> dict[str, tuple[Path, Path]]:
    """Every file besides the full video, as role -> (written file, name it is published under)."""
    full = p.outputs["full"]
    final = full.with_name(final_name(full))
    files = {
        kind: (path, path.with_name(final_name(path))) for kind, path in p.outputs.items() if kind != "full"
    }
    for role, written in (("poster", p.poster), ("sprite", p.sprite_image), ("vtt", vtt)):
        files[role] = (written, published_still(final, role))
    return files
